//! One-bit raster images for the printer, dithered with Floyd–Steinberg.

use image::{DynamicImage, GenericImageView, imageops::FilterType};

/// A monochrome image: rows of `width_bytes()` bytes, MSB is the left dot,
/// a set bit prints black.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raster {
    width: u16,
    height: u16,
    bits: Vec<u8>,
}

impl Raster {
    /// An all-white image.
    pub fn blank(width: u16, height: u16) -> Raster {
        let len = usize::from(width.div_ceil(8)) * usize::from(height);
        Raster {
            width,
            height,
            bits: vec![0; len],
        }
    }

    /// An image from packed rows as sent with `GS v 0`.
    pub fn from_packed(width_bytes: u16, height: u16, bits: Vec<u8>) -> Option<Raster> {
        (bits.len() == usize::from(width_bytes) * usize::from(height)).then_some(Raster {
            width: width_bytes.saturating_mul(8),
            height,
            bits,
        })
    }

    /// `image` scaled down (never up) to at most `max_width` × `max_height`
    /// dots, composited on white, converted to grey and dithered with
    /// Floyd–Steinberg error diffusion.
    pub fn from_image(image: &DynamicImage, max_width: u16, max_height: u16) -> Raster {
        let (max_width, max_height) = (max_width.max(1), max_height.max(1));
        let (w, h) = image.dimensions();
        let scale = f64::min(
            1.0,
            f64::min(
                f64::from(max_width) / f64::from(w.max(1)),
                f64::from(max_height) / f64::from(h.max(1)),
            ),
        );
        let target_w = ((f64::from(w) * scale).round() as u32).clamp(1, u32::from(max_width));
        let target_h = ((f64::from(h) * scale).round() as u32).clamp(1, u32::from(max_height));
        let scaled = if (target_w, target_h) == (w, h) {
            image.to_rgba8()
        } else {
            image
                .resize_exact(target_w, target_h, FilterType::Triangle)
                .to_rgba8()
        };
        let width = u16::try_from(target_w).unwrap_or(max_width);
        let height = u16::try_from(target_h).unwrap_or(max_height);
        let mut grey: Vec<f32> = scaled
            .pixels()
            .map(|p| {
                let [r, g, b, a] = p.0;
                let luma = 0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b);
                let alpha = f32::from(a) / 255.0;
                luma * alpha + 255.0 * (1.0 - alpha)
            })
            .collect();
        let mut raster = Raster::blank(width, height);
        let (wu, hu) = (usize::from(width), usize::from(height));
        for y in 0..hu {
            for x in 0..wu {
                let old = grey[y * wu + x];
                let black = old < 128.0;
                let new = if black { 0.0 } else { 255.0 };
                if black {
                    raster.set(x, y);
                }
                let err = old - new;
                let mut spread = |dx: isize, dy: usize, weight: f32| {
                    let nx = x as isize + dx;
                    let ny = y + dy;
                    if nx >= 0 && (nx as usize) < wu && ny < hu {
                        grey[ny * wu + nx as usize] += err * weight;
                    }
                };
                spread(1, 0, 7.0 / 16.0);
                spread(-1, 1, 3.0 / 16.0);
                spread(0, 1, 5.0 / 16.0);
                spread(1, 1, 1.0 / 16.0);
            }
        }
        raster
    }

    fn set(&mut self, x: usize, y: usize) {
        let row = usize::from(self.width_bytes());
        self.bits[y * row + x / 8] |= 0x80 >> (x % 8);
    }

    /// Width in dots.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Height in dots.
    pub fn height(&self) -> u16 {
        self.height
    }

    /// Bytes per row.
    pub fn width_bytes(&self) -> u16 {
        self.width.div_ceil(8)
    }

    /// Packed rows.
    pub fn bits(&self) -> &[u8] {
        &self.bits
    }

    /// True if the dot at (`x`, `y`) prints black.
    pub fn is_black(&self, x: usize, y: usize) -> bool {
        let row = usize::from(self.width_bytes());
        x < usize::from(self.width)
            && y < usize::from(self.height)
            && self.bits[y * row + x / 8] & (0x80 >> (x % 8)) != 0
    }

    /// Share of black dots, 0.0..=1.0.
    pub fn ink_coverage(&self) -> f64 {
        let total = usize::from(self.width) * usize::from(self.height);
        if total == 0 {
            return 0.0;
        }
        let black = (0..usize::from(self.height))
            .flat_map(|y| (0..usize::from(self.width)).map(move |x| (x, y)))
            .filter(|&(x, y)| self.is_black(x, y))
            .count();
        black as f64 / total as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma};

    #[test]
    fn mid_grey_dithers_to_about_half_ink() {
        let grey = DynamicImage::ImageLuma8(GrayImage::from_pixel(64, 64, Luma([128])));
        let r = Raster::from_image(&grey, 384, 256);
        let coverage = r.ink_coverage();
        assert!((0.45..0.55).contains(&coverage), "coverage {coverage}");
        // error diffusion, not a threshold: neighbours alternate
        assert_ne!(r.is_black(10, 10), r.is_black(11, 10));
    }

    #[test]
    fn scales_down_to_the_paper_and_keeps_aspect() {
        let wide = DynamicImage::ImageLuma8(GrayImage::from_pixel(1000, 500, Luma([0])));
        let r = Raster::from_image(&wide, 384, 400);
        assert_eq!((r.width(), r.height()), (384, 192));
        assert!(r.ink_coverage() > 0.99);
    }
}
