//! The end-of-day (Z) report layout.

use crate::document::{Block, Document, TextStyle};
use crate::error::PrinterError;
use crate::layout::builder::Builder;
use crate::layout::receipt::date_time;
use crate::layout::{LayoutOptions, header};
use crate::model::ZReport;
use crate::profile::PrinterProfile;

/// Lays `report` out for `profile`. Labels are Indonesian with the English
/// term where shop staff commonly use it.
pub fn z_report_document(
    report: &ZReport,
    profile: &PrinterProfile,
    options: &LayoutOptions,
) -> Result<Document, PrinterError> {
    let cur = &report.currency;
    let plain = TextStyle::default();
    let mut b = Builder::new(profile);
    header::store_header(&mut b, None, &report.store, &options.labels)?;
    b.rule();
    b.centered("LAPORAN Z / Z REPORT", TextStyle::BOLD);
    if report.is_copy {
        b.centered(options.labels.copy_banner, TextStyle::BOLD);
    }
    b.left_right("No", &report.number, plain);
    b.left_right("Terminal", &report.terminal, plain);
    b.left_right(
        "Tanggal usaha",
        &report.business_date.format("%d-%m-%Y").to_string(),
        plain,
    );
    b.left_right("Buka", &date_time(report.opened_at), plain);
    b.left_right("Tutup", &date_time(report.closed_at), plain);
    b.left_right("Ditutup oleh", &report.closed_by, plain);
    if let Some((first, last)) = &report.receipt_range {
        b.left_right("Struk pertama", first, plain);
        b.left_right("Struk terakhir", last, plain);
    }
    b.rule();
    b.left_right("Transaksi", &report.sales_count.to_string(), plain);
    b.left_right("Retur", &report.refund_count.to_string(), plain);
    b.left_right("Batal (void)", &report.void_count.to_string(), plain);
    b.rule();
    b.left_right("Penjualan kotor", &cur.money(report.gross_sales), plain);
    b.left_right("Diskon", &cur.money(report.discounts), plain);
    b.left_right("Retur", &cur.money(report.refunds), plain);
    b.left_right(
        "Penjualan bersih",
        &cur.money(report.net_sales),
        TextStyle::BOLD,
    );
    b.left_right("DPP", &cur.money(report.tax_base), plain);
    b.left_right(&report.tax_label, &cur.money(report.tax), plain);
    b.left_right("Pembulatan", &cur.money(report.rounding), plain);
    b.rule();
    b.text("Per metode bayar", TextStyle::BOLD);
    for p in &report.payments {
        b.left_right(
            &format!("{} ({}x)", p.method, p.count),
            &cur.money(p.amount),
            plain,
        );
    }
    b.rule();
    b.text("Kas / Cash drawer", TextStyle::BOLD);
    let cash = &report.cash;
    b.left_right("Modal awal", &cur.money(cash.opening_float), plain);
    b.left_right("Penjualan tunai", &cur.money(cash.cash_sales), plain);
    b.left_right("Kas masuk/keluar", &cur.money(cash.cash_in_out), plain);
    b.left_right("Seharusnya", &cur.money(cash.expected), plain);
    b.left_right("Dihitung", &cur.money(cash.counted), plain);
    b.left_right("Selisih", &cur.money(cash.difference), TextStyle::BOLD);
    b.rule();
    b.left_right("Dicetak", &date_time(report.printed_at), plain);
    b.blank();
    b.text("Tanda tangan:", plain);
    b.blank();
    b.blank();
    b.rule();
    if options.cut {
        b.block(Block::Cut);
    }
    Ok(b.finish())
}
