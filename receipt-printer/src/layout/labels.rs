//! Words printed on receipts and reports.

/// Fixed words on a receipt, in the shop's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    /// "No"
    pub number: &'static str,
    /// "Tanggal"
    pub date: &'static str,
    /// "Kasir"
    pub cashier: &'static str,
    /// "Terminal"
    pub terminal: &'static str,
    /// "Subtotal"
    pub subtotal: &'static str,
    /// "Pembulatan"
    pub rounding: &'static str,
    /// "TOTAL"
    pub total: &'static str,
    /// "Kembali"
    pub change: &'static str,
    /// "Ref QRIS"
    pub qris_reference: &'static str,
    /// "Ref"
    pub reference: &'static str,
    /// "termasuk" (tax included)
    pub tax_included: &'static str,
    /// "*** SALINAN / COPY ***"
    pub copy_banner: &'static str,
    /// "NPWP"
    pub npwp: &'static str,
}

impl Labels {
    /// Indonesian (the default).
    pub const INDONESIAN: Labels = Labels {
        number: "No",
        date: "Tanggal",
        cashier: "Kasir",
        terminal: "Terminal",
        subtotal: "Subtotal",
        rounding: "Pembulatan",
        total: "TOTAL",
        change: "Kembali",
        qris_reference: "Ref QRIS",
        reference: "Ref",
        tax_included: "termasuk",
        copy_banner: "*** COPY / SALINAN ***",
        npwp: "NPWP",
    };

    /// English.
    pub const ENGLISH: Labels = Labels {
        number: "No",
        date: "Date",
        cashier: "Cashier",
        terminal: "Terminal",
        subtotal: "Subtotal",
        rounding: "Rounding",
        total: "TOTAL",
        change: "Change",
        qris_reference: "QRIS ref",
        reference: "Ref",
        tax_included: "included",
        copy_banner: "*** COPY ***",
        npwp: "NPWP",
    };
}

impl Default for Labels {
    fn default() -> Self {
        Labels::INDONESIAN
    }
}
