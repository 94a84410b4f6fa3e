//! A store's settings: everything pricing, tax and receipts need, as data.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::barcode::WeighedBarcodeRule;
use crate::business_day::BusinessDayConfig;
use crate::catalog::check_text;
use crate::error::{ModelError, ModelResult};
use crate::money::{Currency, Money, Percent};
use crate::tax::{PriceMode, TaxRule};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct StoreSettings {
    pub store_name: String,
    pub address: String,
    /// Seller's tax number, printed on receipts (simplified tax invoice).
    pub npwp: Option<String>,
    pub currency_code: String,
    pub currency_minor_units: u32,
    pub price_mode: PriceMode,
    pub tax_rules: Vec<TaxRule>,
    /// Cash payments are rounded to this unit (e.g. 100); zero for none.
    pub cash_rounding_unit: Money,
    pub business_day: BusinessDayConfig,
    pub receipt_header: Vec<String>,
    pub receipt_footer: Vec<String>,
    /// Line or cart discounts above this percentage need a supervisor PIN.
    pub supervisor_discount_percent: Percent,
    pub weighed_barcodes: Vec<WeighedBarcodeRule>,
    /// Warn the cashier after this many hours without a successful sync.
    pub offline_warning_hours: u32,
    /// The store's static QRIS payload (EMVCo merchant-presented QR text, CRC included), shown
    /// as a QR code at payment. Absent in documents written before it existed.
    #[serde(default)]
    #[autosurgeon(missing = "Default::default")]
    pub qris_static_payload: Option<String>,
    /// How many days a customer's email address or phone number, typed to send a digital
    /// receipt, is kept after the send (on the till and on the server); 0: forgotten as soon as
    /// it is sent. Never shown in reports. Absent in documents written before it existed, which
    /// read as [`DEFAULT_CONTACT_RETENTION_DAYS`].
    #[serde(default = "default_contact_retention_days")]
    #[autosurgeon(missing = "default_contact_retention_days")]
    pub contact_retention_days: u32,
}

/// The days a customer's contact is kept when the store has not chosen.
pub const DEFAULT_CONTACT_RETENTION_DAYS: u32 = 30;

fn default_contact_retention_days() -> u32 {
    DEFAULT_CONTACT_RETENTION_DAYS
}

impl StoreSettings {
    /// Sensible defaults for an Indonesian shop: IDR, tax-inclusive prices, PPN classes,
    /// Rp100 cash rounding, business day from 04:00 Asia/Jakarta.
    pub fn indonesia(store_name: &str, address: &str) -> StoreSettings {
        StoreSettings {
            store_name: store_name.into(),
            address: address.into(),
            npwp: None,
            currency_code: "IDR".into(),
            currency_minor_units: 0,
            price_mode: PriceMode::Inclusive,
            tax_rules: vec![
                TaxRule::ppn_standard(),
                TaxRule::ppn_luxury(),
                TaxRule::exempt(),
            ],
            cash_rounding_unit: Money::from_i64(100),
            business_day: BusinessDayConfig::default(),
            receipt_header: Vec::new(),
            receipt_footer: vec!["Terima kasih".into()],
            supervisor_discount_percent: Percent(rust_decimal::Decimal::from(20)),
            weighed_barcodes: WeighedBarcodeRule::default_rules(),
            offline_warning_hours: 24,
            qris_static_payload: None,
            contact_retention_days: DEFAULT_CONTACT_RETENTION_DAYS,
        }
    }

    pub fn currency(&self) -> Currency {
        Currency {
            code: self.currency_code.clone(),
            minor_units: self.currency_minor_units,
        }
    }

    pub fn tax_rule(&self, class: &str) -> ModelResult<&TaxRule> {
        self.tax_rules
            .iter()
            .find(|t| t.class == class)
            .ok_or_else(|| ModelError::UnknownTaxClass(class.into()))
    }

    pub fn cash_unit(&self) -> Option<Money> {
        (!self.cash_rounding_unit.is_zero()).then_some(self.cash_rounding_unit)
    }

    pub fn validate(&self) -> ModelResult<()> {
        check_text("store name", &self.store_name, 100)?;
        Currency::new(&self.currency_code, self.currency_minor_units)?;
        self.cash_rounding_unit.non_negative("cash rounding unit")?;
        self.business_day.validate()?;
        for (i, t) in self.tax_rules.iter().enumerate() {
            t.validate()?;
            if self.tax_rules[..i].iter().any(|o| o.class == t.class) {
                return Err(ModelError::Invalid {
                    field: "tax rules",
                    reason: format!("class {:?} defined twice", t.class),
                });
            }
        }
        for r in &self.weighed_barcodes {
            r.validate()?;
        }
        if let Some(payload) = &self.qris_static_payload {
            crate::qris::check_payload(payload)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};

    use super::*;

    #[test]
    fn settings_written_before_the_qris_payload_existed_still_load() {
        let mut doc = AutoCommit::new();
        autosurgeon::reconcile_prop(
            &mut doc,
            ROOT,
            "settings",
            StoreSettings::indonesia("Toko", "Jl. 1"),
        )
        .unwrap();
        let settings = match automerge::ReadDoc::get(&doc, ROOT, "settings").unwrap() {
            Some((_, id)) => id,
            None => panic!("no settings"),
        };
        doc.delete(&settings, "qris_static_payload").unwrap();
        doc.delete(&settings, "contact_retention_days").unwrap();
        let back: StoreSettings = autosurgeon::hydrate_prop(&doc, ROOT, "settings").unwrap();
        assert_eq!(back.qris_static_payload, None);
        assert_eq!(back.contact_retention_days, DEFAULT_CONTACT_RETENTION_DAYS);
        // And from JSON without the field.
        let mut json = serde_json::to_value(StoreSettings::indonesia("Toko", "Jl. 1")).unwrap();
        json.as_object_mut().unwrap().remove("qris_static_payload");
        json.as_object_mut()
            .unwrap()
            .remove("contact_retention_days");
        let back: StoreSettings = serde_json::from_value(json).unwrap();
        assert_eq!(back.qris_static_payload, None);
    }

    #[test]
    fn a_mistyped_qris_payload_is_refused() {
        let mut s = StoreSettings::indonesia("Toko", "Jl. 1");
        let good = crate::qris::with_crc("000201010211520454115303360580" /* cut */);
        s.qris_static_payload = Some(good);
        // The body above is cut mid-object, so even with its CRC it is no payload.
        assert!(s.validate().is_err());
        let good = crate::qris::with_crc("0002010102115204541153033605802ID5909TOKO DEMO");
        s.qris_static_payload = Some(good.clone());
        s.validate().unwrap();
        s.qris_static_payload = Some(good.replacen("DEMO", "DEMI", 1));
        let err = s.validate().unwrap_err().to_string();
        assert!(err.contains("QRIS payload") && err.contains("CRC"), "{err}");
    }
}
