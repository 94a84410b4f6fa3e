//! The sample receipt and Z report `escpos-print sample` prints, also used
//! by the golden tests: Indonesian and European text, an en dash, a weighed
//! article, discounts, PPN, rounding, split payment, QRIS, QR and logo.

use chrono::{NaiveDate, NaiveDateTime};
use image::{DynamicImage, Rgba, RgbaImage};
use rust_decimal::Decimal;

use crate::model::{
    Adjustment, CashCount, Logo, Payment, PaymentTotal, Quantity, Receipt, ReceiptLine,
    StoreHeader, TaxSummary, ZReport,
};
use crate::money::Currency;

fn rp(units: i64) -> Decimal {
    Decimal::from(units)
}

fn at(h: u32, m: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 25)
        .and_then(|d| d.and_hms_opt(h, m, 0))
        .unwrap_or_default()
}

/// The sample store.
pub fn sample_store() -> StoreHeader {
    StoreHeader {
        name: "Toko Kopi Café Senja".into(),
        address: vec!["Jl. Braga No. 12".into(), "Bandung 40111".into()],
        npwp: Some("01.234.567.8-901.000".into()),
        phone: Some("Tel. 022-1234567".into()),
    }
}

/// A logo drawn in code: a cup in a ring over a grey gradient, so the
/// dithering shows on paper.
pub fn sample_logo_image() -> DynamicImage {
    let (w, h) = (160u32, 96u32);
    let mut img = RgbaImage::new(w, h);
    for (x, y, px) in img.enumerate_pixels_mut() {
        let (cx, cy) = (x as f32 - 80.0, y as f32 - 48.0);
        let r = (cx * cx + cy * cy).sqrt();
        let shade = if r < 44.0 && r > 36.0 {
            20
        } else if ((-18.0..18.0).contains(&cx) && (-10.0..22.0).contains(&cy))
            || ((18.0..28.0).contains(&cx) && (-2.0..10.0).contains(&cy))
        {
            // cup and handle
            60
        } else {
            // horizontal gradient, light grey to mid grey
            (230.0 - x as f32 * 0.8) as u8
        };
        *px = Rgba([shade, shade, shade, 255]);
    }
    DynamicImage::ImageRgba8(img)
}

/// The sample logo as a [`Logo`].
pub fn sample_logo() -> Option<Logo> {
    Logo::from_image(&sample_logo_image()).ok()
}

/// The sample receipt.
pub fn sample_receipt() -> Receipt {
    Receipt {
        currency: Currency::idr(),
        logo: sample_logo(),
        store: sample_store(),
        title: "STRUK PENJUALAN".into(),
        number: "BDG1-T01-261125-0042".into(),
        issued_at: at(9, 14),
        cashier: "Siti Rahayu".into(),
        terminal: Some("T01".into()),
        lines: vec![
            ReceiptLine {
                name: "Kopi Susu Gula Aren".into(),
                quantity: Quantity::Count(rp(2)),
                unit_price: rp(12_500),
                amount: rp(25_000),
                discounts: vec![Adjustment {
                    label: "Diskon member 10%".into(),
                    amount: rp(-2_500),
                }],
            },
            ReceiptLine {
                name: "Café au lait – ukuran besar".into(),
                quantity: Quantity::Count(rp(1)),
                unit_price: rp(28_000),
                amount: rp(28_000),
                discounts: vec![],
            },
            ReceiptLine {
                name: "Biji kopi Gayo (curah)".into(),
                quantity: Quantity::Measure {
                    value: Decimal::new(250, 3),
                    unit: "kg".into(),
                },
                unit_price: rp(180_000),
                amount: rp(45_000),
                discounts: vec![],
            },
            ReceiptLine {
                name: "Crème brûlée “spesial”…".into(),
                quantity: Quantity::Count(rp(1)),
                unit_price: rp(19_950),
                amount: rp(19_950),
                discounts: vec![],
            },
        ],
        subtotal: rp(115_450),
        cart_adjustments: vec![Adjustment {
            label: "Promo Rabu".into(),
            amount: rp(-5_000),
        }],
        tax: Some(TaxSummary {
            base_label: "DPP Nilai Lain".into(),
            base: rp(91_213),
            tax_label: "PPN 12%".into(),
            tax: rp(10_945),
            included: true,
        }),
        rounding: Some(rp(-50)),
        total: rp(110_400),
        payments: vec![
            Payment {
                method: "QRIS".into(),
                amount: rp(47_900),
                reference: Some("QR-7F3K-20261125".into()),
            },
            Payment {
                method: "Tunai".into(),
                amount: rp(75_000),
                reference: None,
            },
        ],
        change: Some(rp(12_500)),
        qris_reference: Some("ID1026112509140042".into()),
        footer: vec![
            "Terima kasih – sampai jumpa lagi!".into(),
            "Harga sudah termasuk PPN".into(),
        ],
        qr_payload: Some("https://snapkasir.id/r/BDG1-T01-261125-0042".into()),
        is_copy: false,
    }
}

/// The sample Z report.
pub fn sample_z_report() -> ZReport {
    ZReport {
        currency: Currency::idr(),
        store: sample_store(),
        number: "Z-BDG1-T01-261125".into(),
        terminal: "T01".into(),
        business_date: NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or_default(),
        opened_at: at(7, 0),
        closed_at: at(22, 5),
        closed_by: "Budi Santoso".into(),
        sales_count: 148,
        refund_count: 2,
        void_count: 1,
        gross_sales: rp(6_245_000),
        discounts: rp(-212_500),
        refunds: rp(-57_000),
        net_sales: rp(5_975_500),
        tax_base: rp(4_876_000),
        tax: rp(585_120),
        tax_label: "PPN 12%".into(),
        rounding: rp(-1_300),
        payments: vec![
            PaymentTotal {
                method: "Tunai".into(),
                count: 92,
                amount: rp(3_120_500),
            },
            PaymentTotal {
                method: "QRIS".into(),
                count: 51,
                amount: rp(2_455_000),
            },
            PaymentTotal {
                method: "Debit BCA".into(),
                count: 5,
                amount: rp(400_000),
            },
        ],
        cash: CashCount {
            opening_float: rp(500_000),
            cash_sales: rp(3_120_500),
            cash_in_out: rp(-150_000),
            expected: rp(3_470_500),
            counted: rp(3_468_000),
            difference: rp(-2_500),
        },
        receipt_range: Some(("BDG1-T01-261125-0001".into(), "BDG1-T01-261125-0150".into())),
        printed_at: at(22, 6),
        is_copy: false,
    }
}
