//! One struct per document kind.

use std::collections::HashMap;

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use super::{Document, DocumentKind, SCHEMA_VERSION};
use crate::cart::Cart;
use crate::catalog::{Category, Product};
use crate::codec::{BusinessDate, Timestamp};
use crate::lan_roster::SignedLanRoster;
use crate::money::Quantity;
use crate::promotion::Promotion;
use crate::refund::Refund;
use crate::sale::{Sale, Void};
use crate::settings::StoreSettings;
use crate::shift::{CashMovement, Shift};
use crate::stock::{StockCount, StockMovement};
use crate::users::StoreUser;

macro_rules! document {
    ($t:ty, $kind:expr) => {
        impl Document for $t {
            const KIND: DocumentKind = $kind;
            fn kind(&self) -> &str {
                &self.kind
            }
            fn schema_version(&self) -> u64 {
                self.schema_version
            }
        }
    };
}

fn header(kind: DocumentKind) -> (String, u64) {
    (kind.as_str().to_string(), schema_of(kind))
}

/// The schema a new document of `kind` records: the first whose layout it has, so that a till
/// of an older schema that still reads that layout is not refused it. Schema 2 changed
/// journals alone.
pub fn schema_of(kind: DocumentKind) -> u64 {
    match kind {
        DocumentKind::Journal => SCHEMA_VERSION,
        _ => 1,
    }
}

/// Links (automerge URLs) to a store's documents, and its profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct StoreRootDoc {
    pub kind: String,
    pub schema_version: u64,
    pub store_id: String,
    pub store_code: String,
    pub name: String,
    pub catalog: String,
    pub settings: String,
    pub users: String,
    pub parked_carts: String,
    /// `YYYY-MM` → URL of that month's period index.
    pub period_indexes: HashMap<String, String>,
    /// URL of the latest stock baseline, once the server has written one.
    pub latest_baseline: Option<String>,
    /// The store's LAN roster as the server signed it (written by the server only; a till
    /// takes it only when it verifies and is newer than the one it holds, see
    /// [`crate::lan_roster::SignedLanRoster::verify_newer`]). `None` until the server wrote one.
    pub lan_roster: Option<SignedLanRoster>,
}
document!(StoreRootDoc, DocumentKind::StoreRoot);

impl StoreRootDoc {
    pub fn new(store_id: &str, store_code: &str, name: &str, links: [String; 4]) -> Self {
        let (kind, schema_version) = header(DocumentKind::StoreRoot);
        let [catalog, settings, users, parked_carts] = links;
        StoreRootDoc {
            kind,
            schema_version,
            store_id: store_id.into(),
            store_code: store_code.into(),
            name: name.into(),
            catalog,
            settings,
            users,
            parked_carts,
            period_indexes: HashMap::new(),
            latest_baseline: None,
            lan_roster: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct JournalRef {
    pub url: String,
    pub terminal_code: String,
    pub business_date: BusinessDate,
}

/// One month of a store: links to its journals and adjustment documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct PeriodIndexDoc {
    pub kind: String,
    pub schema_version: u64,
    pub store_id: String,
    /// `YYYY-MM`.
    pub month: String,
    /// Keyed `<terminal>/<YYYY-MM-DD>`.
    pub journals: HashMap<String, JournalRef>,
    /// Keyed by URL.
    pub adjustments: HashMap<String, String>,
}
document!(PeriodIndexDoc, DocumentKind::PeriodIndex);

impl PeriodIndexDoc {
    pub fn new(store_id: &str, month: &str) -> Self {
        let (kind, schema_version) = header(DocumentKind::PeriodIndex);
        PeriodIndexDoc {
            kind,
            schema_version,
            store_id: store_id.into(),
            month: month.into(),
            journals: HashMap::new(),
            adjustments: HashMap::new(),
        }
    }
}

/// Products, categories and promotions of a store, keyed by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct CatalogDoc {
    pub kind: String,
    pub schema_version: u64,
    pub store_id: String,
    pub products: HashMap<String, Product>,
    pub categories: HashMap<String, Category>,
    pub promotions: HashMap<String, Promotion>,
}
document!(CatalogDoc, DocumentKind::Catalog);

impl CatalogDoc {
    pub fn new(store_id: &str) -> Self {
        let (kind, schema_version) = header(DocumentKind::Catalog);
        CatalogDoc {
            kind,
            schema_version,
            store_id: store_id.into(),
            products: HashMap::new(),
            categories: HashMap::new(),
            promotions: HashMap::new(),
        }
    }
}

/// Everything one terminal did in one business day. Only that terminal writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct JournalDoc {
    pub kind: String,
    pub schema_version: u64,
    pub store_id: String,
    pub terminal_code: String,
    pub business_date: BusinessDate,
    #[serde(deserialize_with = "sales_of_either_schema")]
    pub sales: HashMap<String, Sale>,
    pub refunds: HashMap<String, Refund>,
    pub voids: HashMap<String, Void>,
    pub shifts: HashMap<String, Shift>,
    pub cash_movements: HashMap<String, CashMovement>,
    /// Movements that are not derived from a sale or refund of this journal.
    pub stock_movements: HashMap<String, StockMovement>,
}
document!(JournalDoc, DocumentKind::Journal);

/// A journal's sales as serde reads them from the document ([`super::materialize`]): each one
/// its JSON in a string (schema 2), or a map of its fields (schema 1).
fn sales_of_either_schema<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<HashMap<String, Sale>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Json(String),
        Fields(Box<Sale>),
    }
    HashMap::<String, Stored>::deserialize(deserializer)?
        .into_iter()
        .map(|(key, stored)| {
            let sale = match stored {
                Stored::Json(json) => {
                    serde_json::from_str(&json).map_err(serde::de::Error::custom)?
                }
                Stored::Fields(sale) => *sale,
            };
            Ok((key, sale))
        })
        .collect()
}

impl JournalDoc {
    pub fn new(store_id: &str, terminal_code: &str, business_date: BusinessDate) -> Self {
        let (kind, schema_version) = header(DocumentKind::Journal);
        JournalDoc {
            kind,
            schema_version,
            store_id: store_id.into(),
            terminal_code: terminal_code.into(),
            business_date,
            sales: HashMap::new(),
            refunds: HashMap::new(),
            voids: HashMap::new(),
            shifts: HashMap::new(),
            cash_movements: HashMap::new(),
            stock_movements: HashMap::new(),
        }
    }

    /// Every stock movement the journal implies: its sales, refunds and own movements.
    pub fn all_stock_movements(&self) -> Vec<StockMovement> {
        let voided: Vec<_> = self.voids.values().map(|v| v.sale_id).collect();
        let mut out: Vec<StockMovement> = self
            .sales
            .values()
            .filter(|s| !voided.contains(&s.id))
            .flat_map(StockMovement::from_sale)
            .collect();
        out.extend(self.refunds.values().flat_map(StockMovement::from_refund));
        out.extend(self.stock_movements.values().cloned());
        out
    }
}

/// Managers' stock adjustments of one period: movements and counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct StockAdjustmentsDoc {
    pub kind: String,
    pub schema_version: u64,
    pub store_id: String,
    /// `YYYY-MM`.
    pub period: String,
    pub movements: HashMap<String, StockMovement>,
    pub counts: HashMap<String, StockCount>,
}
document!(StockAdjustmentsDoc, DocumentKind::StockAdjustments);

impl StockAdjustmentsDoc {
    pub fn new(store_id: &str, period: &str) -> Self {
        let (kind, schema_version) = header(DocumentKind::StockAdjustments);
        StockAdjustmentsDoc {
            kind,
            schema_version,
            store_id: store_id.into(),
            period: period.into(),
            movements: HashMap::new(),
            counts: HashMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct IncludedDoc {
    pub url: String,
    /// Heads (hex change hashes) up to which the document's movements are included.
    pub heads: Vec<String>,
}

/// Stock on hand at the close of a business day, written by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct StockBaselineDoc {
    pub kind: String,
    pub schema_version: u64,
    pub store_id: String,
    pub business_date: BusinessDate,
    /// Product id → quantity.
    pub on_hand: HashMap<String, Quantity>,
    pub included: Vec<IncludedDoc>,
    pub written_at: Timestamp,
}
document!(StockBaselineDoc, DocumentKind::StockBaseline);

impl StockBaselineDoc {
    pub fn new(store_id: &str, business_date: BusinessDate) -> Self {
        let (kind, schema_version) = header(DocumentKind::StockBaseline);
        StockBaselineDoc {
            kind,
            schema_version,
            store_id: store_id.into(),
            business_date,
            on_hand: HashMap::new(),
            included: Vec::new(),
            written_at: Timestamp::now(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct SettingsDoc {
    pub kind: String,
    pub schema_version: u64,
    pub store_id: String,
    pub settings: StoreSettings,
}
document!(SettingsDoc, DocumentKind::Settings);

impl SettingsDoc {
    pub fn new(store_id: &str, settings: StoreSettings) -> Self {
        let (kind, schema_version) = header(DocumentKind::Settings);
        SettingsDoc {
            kind,
            schema_version,
            store_id: store_id.into(),
            settings,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct UsersDoc {
    pub kind: String,
    pub schema_version: u64,
    pub store_id: String,
    pub users: HashMap<String, StoreUser>,
}
document!(UsersDoc, DocumentKind::Users);

impl UsersDoc {
    pub fn new(store_id: &str) -> Self {
        let (kind, schema_version) = header(DocumentKind::Users);
        UsersDoc {
            kind,
            schema_version,
            store_id: store_id.into(),
            users: HashMap::new(),
        }
    }
}

/// A till's claim on a parked cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct CartClaim {
    pub terminal_code: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct ParkedCart {
    /// Emptied when the cart is resumed; the entry stays so that claims can be compared.
    pub cart: Option<Cart>,
    pub parked_at: Timestamp,
    pub parked_by: String,
    pub terminal_code: String,
    pub label: Option<String>,
    /// Terminal code → claim. More than one claim after a merge means the cart was resumed on
    /// two tills: a conflict to flag.
    pub claims: HashMap<String, CartClaim>,
}

impl ParkedCart {
    pub fn is_double_claimed(&self) -> bool {
        self.claims.len() > 1
    }
}

/// Carts parked on any till of the store, keyed by cart id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct ParkedCartsDoc {
    pub kind: String,
    pub schema_version: u64,
    pub store_id: String,
    pub carts: HashMap<String, ParkedCart>,
}
document!(ParkedCartsDoc, DocumentKind::ParkedCarts);

impl ParkedCartsDoc {
    pub fn new(store_id: &str) -> Self {
        let (kind, schema_version) = header(DocumentKind::ParkedCarts);
        ParkedCartsDoc {
            kind,
            schema_version,
            store_id: store_id.into(),
            carts: HashMap::new(),
        }
    }
}
