//! The rows the storage layer reads and writes, in one place: accounts and credentials, claims,
//! report rows, the store-document tables, and the rows a projected document replaces. They are
//! plain data (`sqlx::FromRow` where a query returns them); `projection` builds
//! [`ProjectedDoc`]s from documents and imports them from here, never the reverse.

use std::fmt::Debug;

// ---- accounts, credentials, claims and reports

/// A stored chunk: its key and bytes.
pub type Chunk = (String, Vec<u8>);

/// A chunk to write: the tenant whose repo wrote it, its key and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkPut {
    pub tenant: std::sync::Arc<str>,
    pub key: String,
    pub data: Vec<u8>,
}

/// A chunk to delete: the tenant whose repo deletes it, and its key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChunkDelete {
    pub tenant: std::sync::Arc<str>,
    pub key: String,
}

/// A live instance: its id and sync URL.
pub type InstanceRow = (String, String);

/// A tenant: one business, owning stores.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

/// A store (shop) of a tenant. `store_key` is a secret shared by the
/// store's enrolled terminals for LAN sync.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoreRow {
    pub id: String,
    pub tenant_id: String,
    pub code: String,
    pub name: String,
    pub store_key: String,
    pub created_at: i64,
}

impl Debug for StoreRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreRow")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("code", &self.code)
            .field("name", &self.name)
            .field("store_key", &"<hidden>")
            .finish()
    }
}

/// An owner or manager who logs in with a password.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub tenant_id: String,
    /// `None` for tenant-wide users (owners).
    pub store_id: Option<String>,
    pub email: String,
    pub password_hash: String,
    /// `owner` or `manager`.
    pub role: String,
    pub created_at: i64,
    /// When an owner disabled the user (`None`: active); a disabled user cannot sign in and
    /// their sessions are ended.
    #[sqlx(default)]
    pub disabled_at: Option<i64>,
}

impl Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("store_id", &self.store_id)
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// An enrolled terminal; `credential_hash` is the SHA-256 of its device credential.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TerminalRow {
    pub id: String,
    pub tenant_id: String,
    pub store_id: String,
    pub name: String,
    pub credential_hash: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub last_seen_at: Option<i64>,
}

/// A credential of another web product of a tenant (migration 0012); `secret_hash` is the
/// SHA-256 of its secret, which only its creator saw once.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AppCredentialRow {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub secret_hash: String,
    /// The owner who made it.
    pub created_by: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// A one-time enrollment code (stored hashed).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EnrollmentCodeRow {
    pub code_hash: String,
    pub tenant_id: String,
    pub store_id: String,
    pub created_by: String,
    pub terminal_name: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub terminal_id: Option<String>,
}

/// A refresh token (stored hashed), usable once.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RefreshTokenRow {
    pub token_hash: String,
    pub user_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    /// The session (token family) it belongs to; `None` only for tokens issued before sessions
    /// existed, which are refused.
    #[sqlx(default)]
    pub session_id: Option<String>,
}

/// What spending a refresh token found ([`crate::storage::AccountStorage::use_refresh_token`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshUse {
    /// Unexpired and unused: now marked used.
    Fresh(RefreshTokenRow),
    /// Already used once: a copy is in someone else's hands.
    Reused(RefreshTokenRow),
    /// Unknown or expired.
    Invalid,
}

/// One sign-in of an owner or manager: the family of its refresh tokens and the `ses` claim
/// of its access tokens.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub created_at: i64,
    pub ended_at: Option<i64>,
    pub end_reason: Option<String>,
}

/// What a request's session check needs: the session and whether its user is disabled.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionState {
    pub user_id: String,
    pub ended_at: Option<i64>,
    pub user_disabled_at: Option<i64>,
}

/// Which tenant (and store) owns a document id. Never moves once written.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DocClaim {
    pub doc_id: String,
    pub tenant_id: String,
    /// `None` for tenant-wide documents.
    pub store_id: Option<String>,
    pub claimed_by: String,
    pub claimed_at: i64,
}

/// Sales of one business day.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DayTotal {
    pub business_date: String,
    pub sales: i64,
    pub total_e4: i64,
    pub tax_e4: i64,
    pub discount_e4: i64,
}

/// A total grouped by a key (payment method, ...).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeyTotal {
    pub key: String,
    /// The category's or cashier's name, when a catalog or users document named it.
    pub name: Option<String>,
    pub count: i64,
    pub amount_e4: i64,
}

/// Sales of one product.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProductTotal {
    pub product_id: String,
    pub name: String,
    pub quantity_e4: i64,
    pub amount_e4: i64,
}

/// One projected sale, for lists and CSV export.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SaleListRow {
    pub id: String,
    pub receipt_no: String,
    pub terminal_code: String,
    pub business_date: String,
    pub created_at: i64,
    pub cashier_id: String,
    pub total_e4: i64,
    pub tax_e4: i64,
    pub voided: bool,
}

/// One projected refund.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RefundListRow {
    pub id: String,
    /// The refund's own receipt number (`None` until reprojected, for rows older than 0013).
    pub receipt_no: Option<String>,
    pub sale_id: String,
    /// The refunded sale's receipt number (`None` when that sale is not on the server).
    pub sale_receipt_no: Option<String>,
    pub terminal_code: String,
    pub business_date: String,
    pub created_at: i64,
    pub total_e4: i64,
    pub tax_e4: i64,
}

/// One projected shift.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ShiftListRow {
    pub id: String,
    pub terminal_code: String,
    pub cashier_id: String,
    pub business_date: String,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub opening_float_e4: i64,
    pub expected_cash_e4: Option<i64>,
    pub counted_cash_e4: Option<i64>,
    pub difference_e4: Option<i64>,
}

/// A conflict: `kind`, stable `key`, JSON `detail`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConflictListRow {
    pub kind: String,
    pub key: String,
    pub detail: String,
}

/// A sale line refunded beyond what was sold (across journals).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OverRefundRow {
    pub sale_id: String,
    pub sale_line_id: String,
    pub sold_e4: i64,
    pub refunded_e4: i64,
}

/// A voided sale, with its void.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VoidListRow {
    pub sale_id: String,
    pub receipt_no: String,
    pub terminal_code: String,
    pub business_date: String,
    pub created_at: i64,
    pub cashier_id: String,
    pub total_e4: i64,
    pub tax_e4: i64,
    /// Unknown (`None`) for rows projected before migration 0013 until reprojected.
    pub voided_at: Option<i64>,
    pub void_reason: Option<String>,
    pub void_authorized_by: Option<String>,
}

/// One stock movement of a store, as the stock reports read it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MovementListRow {
    pub id: String,
    pub product_id: String,
    pub kind: String,
    pub quantity_e4: i64,
    pub at: i64,
    pub reference: Option<String>,
    pub terminal_code: Option<String>,
}

/// A name a document gives an id: `kind` is `category` or `user`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRow {
    pub kind: String,
    pub id: String,
    pub name: String,
}

/// A line of a sale, with the sale's receipt number and till.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SoldLineRow {
    pub receipt_no: String,
    pub terminal_code: String,
    pub line_id: String,
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub quantity_e4: i64,
    pub amount_e4: i64,
}

/// A refunded line, with its refund's receipt number, till and time.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RefundedLineRow {
    pub refund_id: String,
    pub receipt_no: Option<String>,
    pub terminal_code: String,
    pub created_at: i64,
    pub sale_line_id: String,
    pub quantity_e4: i64,
}

/// A product of the store's projected catalog, by id (for names in stock reports).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProductNameRow {
    pub id: String,
    pub sku: String,
    pub name: String,
}

/// Stock on hand of one product (sum of its movements).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StockLevel {
    pub product_id: String,
    pub quantity_e4: i64,
}

/// Width of the time buckets of [`super::ReportStorage::report_sales_by_quarter_hour`]: every time zone in
/// use today is offset from UTC by a multiple of 15 minutes, so a bucket lies in one local hour.
pub const QUARTER_HOUR_MS: i64 = 900_000;

/// Non-voided sales created in one quarter hour (`bucket` = unix ms / [`QUARTER_HOUR_MS`]).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QuarterHourTotal {
    pub bucket: i64,
    pub sales: i64,
    pub total_e4: i64,
    pub tax_e4: i64,
}

/// An active product at or below its low-stock threshold.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LowStockRow {
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub on_hand_e4: i64,
    pub threshold_e4: i64,
}

/// A sale as its public receipt page shows it ([`crate::storage::ProjectionStorage::sale_by_receipt_token`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicSale {
    pub store_id: String,
    pub receipt_no: String,
    pub terminal_code: String,
    /// Unix ms, the till's clock at checkout.
    pub created_at: i64,
    pub total_e4: i64,
    pub tax_e4: i64,
    pub discount_e4: i64,
    pub voided: bool,
    /// `(name, quantity_e4, amount_e4)` in the receipt's order.
    pub lines: Vec<(String, i64, i64)>,
    /// `(method key, amount_e4)` in the receipt's order.
    pub payments: Vec<(String, i64)>,
}

/// A store's business-day settings, as projected from its settings document.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoreSettingsRow {
    pub time_zone: String,
    pub cutoff_hour: i64,
}

/// A terminal with what it last reported through its heartbeat (`last_report_at` is `None`
/// when it never reported; the counters are then 0).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TerminalStatusRow {
    #[sqlx(flatten)]
    pub terminal: TerminalRow,
    pub last_report_at: Option<i64>,
    pub waiting_documents: i64,
    pub waiting_sales: i64,
    pub clock_skew_ms: Option<i64>,
    /// The app version of its last report.
    pub app_version: Option<String>,
    /// Until when an instance holding its sync connection vouches that it is online.
    pub connected_until: Option<i64>,
}

/// A terminal's heartbeat report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalReport {
    pub terminal_id: String,
    pub at: i64,
    pub waiting_documents: i64,
    pub waiting_sales: i64,
    pub clock_skew_ms: i64,
    pub app_version: Option<String>,
}

// ---- store documents (migration 0007)

/// A store root and the documents it links.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoreRootRow {
    pub store_id: String,
    pub root_doc_id: String,
    pub catalog_doc_id: String,
    pub settings_doc_id: String,
    pub users_doc_id: String,
    pub parked_carts_doc_id: String,
    pub latest_baseline_doc_id: Option<String>,
    pub updated_at: i64,
}

/// A journal of a store.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoreJournalRow {
    pub doc_id: String,
    pub store_id: String,
    pub terminal_code: String,
    /// `YYYY-MM-DD`.
    pub business_date: String,
    pub indexed_at: Option<i64>,
}

/// A stock-adjustments document of a store.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoreAdjustmentsRow {
    pub doc_id: String,
    pub store_id: String,
    /// `YYYY-MM`.
    pub period: String,
}

/// A stock baseline: elected (`doc_id` `None`) or written.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StockBaselineRow {
    pub store_id: String,
    pub business_date: String,
    pub claimed_by: String,
    pub claimed_at: i64,
    pub doc_id: Option<String>,
    pub written_at: Option<i64>,
}

// ---- LAN security (migration 0009)

/// A store's LAN secrets and versions. `signing_key` (the Ed25519 secret the roster is signed
/// with) never leaves the server; `pin_pepper` goes to the store's tills only. Both hex, both
/// hidden from `Debug`.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoreLanRow {
    pub store_id: String,
    pub signing_key: String,
    pub pin_pepper: String,
    pub roster_version: i64,
    pub store_key_version: i64,
    pub created_at: i64,
}

impl Debug for StoreLanRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreLanRow")
            .field("store_id", &self.store_id)
            .field("roster_version", &self.roster_version)
            .field("store_key_version", &self.store_key_version)
            .finish_non_exhaustive()
    }
}

/// A till's LAN public key (Ed25519, 64 lower-case hex digits).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TerminalLanKey {
    pub terminal_id: String,
    pub lan_key: String,
    pub set_at: i64,
}

// ---- rows of a projected document (replaced as a whole by `ProjectionStorage::project_doc`)

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SaleRow {
    pub id: String,
    pub terminal_code: String,
    pub business_date: String,
    pub created_at: i64,
    pub cashier_id: String,
    pub receipt_no: String,
    pub total_e4: i64,
    pub tax_e4: i64,
    /// Line discounts, promotions and the cart discount together.
    pub discount_e4: i64,
    pub voided: bool,
    /// The void of a voided sale (`None` when not voided).
    pub void: Option<VoidDetail>,
    /// The unguessable part of its public receipt link (none from tills that predate it).
    pub receipt_token: Option<String>,
}

/// When, why and by whose approval a sale was voided.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VoidDetail {
    pub at: i64,
    pub reason: String,
    pub authorized_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SaleLineRow {
    pub sale_id: String,
    pub line_no: i64,
    pub line_id: String,
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub category_id: Option<String>,
    pub quantity_e4: i64,
    pub amount_e4: i64,
    pub tax_e4: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PaymentRow {
    pub sale_id: String,
    pub seq: i64,
    pub method: String,
    pub amount_e4: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RefundRow {
    pub id: String,
    pub receipt_no: String,
    pub sale_id: String,
    pub terminal_code: String,
    pub business_date: String,
    pub created_at: i64,
    pub total_e4: i64,
    pub tax_e4: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShiftRow {
    pub id: String,
    pub terminal_code: String,
    pub cashier_id: String,
    pub business_date: String,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub opening_float_e4: i64,
    pub expected_cash_e4: Option<i64>,
    pub counted_cash_e4: Option<i64>,
    pub difference_e4: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CashMovementRow {
    pub id: String,
    pub shift_id: String,
    pub direction: String,
    pub amount_e4: i64,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StockMovementRow {
    pub id: String,
    pub product_id: String,
    pub kind: String,
    pub quantity_e4: i64,
    pub at: i64,
    /// Receipt number, delivery note, count reference.
    pub reference: Option<String>,
    /// The till whose journal holds it (`None` for managers' adjustments).
    pub terminal_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProductRow {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub category_id: Option<String>,
    pub price_e4: i64,
    /// Low-stock threshold (`None`: the product is never reported low).
    pub low_stock_threshold_e4: Option<i64>,
    pub active: bool,
}

/// A product of a catalog page (see [`crate::storage::CatalogStorage`]).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CatalogListRow {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub category_id: Option<String>,
    pub price_e4: i64,
    pub active: bool,
}

/// A store's business-day settings (from its settings document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsRow {
    /// IANA time zone name, e.g. `Asia/Jakarta`.
    pub time_zone: String,
    pub cutoff_hour: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RefundLineRow {
    pub refund_id: String,
    pub seq: i64,
    pub sale_id: String,
    pub sale_line_id: String,
    pub quantity_e4: i64,
}

/// A conflict found inside one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictRow {
    pub key: String,
    pub kind: String,
    /// JSON of the model's `Conflict`.
    pub detail: String,
}

/// Every row one document projects to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectedDoc {
    pub doc_id: String,
    /// The tenant of the document's claim: the leading key of every projected row.
    pub tenant_id: String,
    pub store_id: String,
    pub kind: String,
    pub sales: Vec<SaleRow>,
    pub sale_lines: Vec<SaleLineRow>,
    pub payments: Vec<PaymentRow>,
    pub refunds: Vec<RefundRow>,
    pub shifts: Vec<ShiftRow>,
    pub cash_movements: Vec<CashMovementRow>,
    pub stock_movements: Vec<StockMovementRow>,
    pub products: Vec<ProductRow>,
    pub refund_lines: Vec<RefundLineRow>,
    pub conflicts: Vec<ConflictRow>,
    /// Names of categories (catalogs) and users (users documents).
    pub names: Vec<NameRow>,
    /// Set for settings documents.
    pub settings: Option<SettingsRow>,
}

impl ProjectedDoc {
    /// Every record the rows hold.
    pub fn record_keys(&self) -> impl Iterator<Item = RecordKey> + '_ {
        let key = |kind: RecordKind| move |id: &String| (kind, id.clone());
        (self.sales.iter().map(|r| &r.id).map(key(RecordKind::Sale)))
            .chain(
                self.refunds
                    .iter()
                    .map(|r| &r.id)
                    .map(key(RecordKind::Refund)),
            )
            .chain(
                self.shifts
                    .iter()
                    .map(|r| &r.id)
                    .map(key(RecordKind::Shift)),
            )
            .chain(
                self.cash_movements
                    .iter()
                    .map(|r| &r.id)
                    .map(key(RecordKind::CashMovement)),
            )
            .chain(
                self.stock_movements
                    .iter()
                    .map(|r| &r.id)
                    .map(key(RecordKind::StockMovement)),
            )
            .chain(
                self.products
                    .iter()
                    .map(|r| &r.id)
                    .map(key(RecordKind::Product)),
            )
    }

    /// A fingerprint of each record's rows (a sale's with its lines and payments, a refund's
    /// with its lines): equal fingerprints, equal rows.
    pub fn record_fingerprints(&self) -> std::collections::HashMap<RecordKey, u64> {
        use std::hash::{Hash, Hasher};
        type Hashers =
            std::collections::HashMap<RecordKey, std::collections::hash_map::DefaultHasher>;
        // A row's fields are hashed as they are, not its `Debug` text formatted first.
        fn add(hashers: &mut Hashers, kind: RecordKind, id: &str, row: &impl Hash) {
            row.hash(hashers.entry((kind, id.to_string())).or_default());
        }
        let mut hashers = Hashers::new();
        let h = &mut hashers;
        for r in &self.sales {
            add(h, RecordKind::Sale, &r.id, r);
        }
        for r in &self.sale_lines {
            add(h, RecordKind::Sale, &r.sale_id, r);
        }
        for r in &self.payments {
            add(h, RecordKind::Sale, &r.sale_id, r);
        }
        for r in &self.refunds {
            add(h, RecordKind::Refund, &r.id, r);
        }
        for r in &self.refund_lines {
            add(h, RecordKind::Refund, &r.refund_id, r);
        }
        for r in &self.shifts {
            add(h, RecordKind::Shift, &r.id, r);
        }
        for r in &self.cash_movements {
            add(h, RecordKind::CashMovement, &r.id, r);
        }
        for r in &self.stock_movements {
            add(h, RecordKind::StockMovement, &r.id, r);
        }
        for r in &self.products {
            add(h, RecordKind::Product, &r.id, r);
        }
        hashers.into_iter().map(|(k, h)| (k, h.finish())).collect()
    }
}

/// The kinds of record a projected document's rows group into: a record is rewritten as a
/// whole (a sale with its lines and payments, a refund with its lines, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    Sale,
    Refund,
    Shift,
    CashMovement,
    StockMovement,
    Product,
}

/// One record of a projected document: its kind and id.
pub type RecordKey = (RecordKind, String);

/// How a document's records changed since this instance last projected it
/// (`ProjectionStorage::project_doc_changes`).
#[derive(Debug, Clone, Default)]
pub struct RecordChanges {
    /// The `projected_at` this instance wrote then: if the document's row says otherwise,
    /// someone else projected it since, and the changes are not trusted.
    pub base_projected_at: i64,
    /// Records whose rows are as they were: not rewritten.
    pub unchanged: std::collections::HashSet<RecordKey>,
    /// Records no longer in the document: their rows are removed.
    pub gone: Vec<RecordKey>,
}

/// A send asked for by a till (migration 0017, [`crate::storage::ReceiptEmailStorage`]): the
/// customer's address is `None` once the store's retention has passed. Its `Debug` leaves the
/// address out (it is personal data, not for logs).
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReceiptEmailRow {
    pub send_id: String,
    pub store_id: String,
    pub terminal_id: String,
    pub receipt_token: String,
    pub email: Option<String>,
    /// `sending`, `sent` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the last attempt's start.
    pub attempt_at: i64,
    /// Unix ms at which the SMTP server accepted the message.
    pub sent_at: Option<i64>,
}

impl Debug for ReceiptEmailRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiptEmailRow")
            .field("send_id", &self.send_id)
            .field("store_id", &self.store_id)
            .field("state", &self.state)
            .field("attempts", &self.attempts)
            .field("email", &self.email.as_ref().map(|_| "<kept>"))
            .field("sent_at", &self.sent_at)
            .finish()
    }
}

/// What [`crate::storage::ReceiptEmailStorage::claim_receipt_email`] decided for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptEmailClaim {
    /// This request is the attempt: send, then record the outcome.
    Send,
    /// Already sent, at this Unix ms time: nothing to send.
    Sent(i64),
    /// Another request is sending it right now: retry later.
    InProgress,
    /// An attempt started long ago and never recorded its outcome (the server stopped during
    /// the SMTP exchange): the SMTP server may have accepted it, so it is not sent again.
    Unknown,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sale(id: &str) -> SaleRow {
        SaleRow {
            id: id.into(),
            terminal_code: "T1".into(),
            business_date: "2026-12-05".into(),
            created_at: 1,
            cashier_id: "c".into(),
            receipt_no: format!("A1-T1-{id}"),
            total_e4: 70_000_000,
            tax_e4: 0,
            discount_e4: 0,
            voided: false,
            void: None,
            receipt_token: None,
        }
    }

    fn line(sale_id: &str, amount_e4: i64) -> SaleLineRow {
        SaleLineRow {
            sale_id: sale_id.into(),
            line_no: 0,
            line_id: format!("{sale_id}-l0"),
            product_id: "p".into(),
            sku: "SKU".into(),
            name: "Kopi".into(),
            category_id: None,
            quantity_e4: 10_000,
            amount_e4,
            tax_e4: 0,
        }
    }

    #[test]
    fn a_record_keeps_its_fingerprint_until_one_of_its_rows_changes() {
        let doc = ProjectedDoc {
            sales: vec![sale("s1"), sale("s2")],
            sale_lines: vec![line("s1", 70_000_000), line("s2", 70_000_000)],
            ..ProjectedDoc::default()
        };
        let before = doc.record_fingerprints();
        assert_eq!(before, doc.clone().record_fingerprints());
        let key = |id: &str| (RecordKind::Sale, id.to_string());

        let mut line_changed = doc.clone();
        line_changed.sale_lines[1].amount_e4 = 60_000_000;
        let after = line_changed.record_fingerprints();
        assert_eq!(after[&key("s1")], before[&key("s1")]);
        assert_ne!(after[&key("s2")], before[&key("s2")]);

        let mut voided = doc.clone();
        voided.sales[0].voided = true;
        voided.sales[0].void = Some(VoidDetail {
            at: 2,
            reason: "salah input".into(),
            authorized_by: "m".into(),
        });
        let after = voided.record_fingerprints();
        assert_ne!(after[&key("s1")], before[&key("s1")]);
        assert_eq!(after[&key("s2")], before[&key("s2")]);
    }
}
