//! The store block shared by receipts and reports.

use crate::document::{Block, TextStyle};
use crate::error::PrinterError;
use crate::layout::builder::Builder;
use crate::model::{Logo, StoreHeader};
use crate::raster::Raster;
use crate::text::cell_count;

/// Tallest logo printed, in dots.
const LOGO_MAX_HEIGHT: u16 = 200;

pub(crate) fn store_header(
    b: &mut Builder<'_>,
    logo: Option<&Logo>,
    store: &StoreHeader,
    labels: &crate::layout::Labels,
) -> Result<(), PrinterError> {
    if let Some(logo) = logo {
        let image = logo.decode()?;
        let max_width = b.profile().width_dots / 2;
        b.block(Block::Image(Raster::from_image(
            &image,
            max_width,
            LOGO_MAX_HEIGHT,
        )));
    }
    // The name in double size when it fits on one line, else double height.
    let big = TextStyle::BIG;
    let name = b.printable(&store.name);
    let name_style = if cell_count(&name) <= b.width_for(big) {
        big
    } else {
        TextStyle::TALL
    };
    b.centered(&store.name, name_style);
    for line in &store.address {
        b.centered(line, TextStyle::default());
    }
    if let Some(phone) = &store.phone {
        b.centered(phone, TextStyle::default());
    }
    if let Some(npwp) = &store.npwp {
        b.centered(&format!("{}: {npwp}", labels.npwp), TextStyle::default());
    }
    Ok(())
}
