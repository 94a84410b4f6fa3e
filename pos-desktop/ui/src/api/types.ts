//! TypeScript types for what the UI uses of the shell's JSON (see briefs/contract.md and the
//! Rust types in shared-model/src and pos-desktop/core/src: field names are theirs, as serde
//! writes them). Money and Quantity are decimal strings ("12500", "0.735").

export type Money = string;
export type Quantity = string;
export type Language = "id" | "en";

/** `{ code, message_key, params }`, pos-core's CoreError and the shell's own errors. */
export interface AppError {
  code: string;
  message_key: string;
  params: Record<string, unknown>;
}

export type Role = "Cashier" | "Supervisor" | "Manager";

export interface UserView {
  id: string;
  name: string;
  role: Role | string;
}

export interface DemoInfo {
  cashier_name: string;
  cashier_pin: string;
  supervisor_name: string;
  supervisor_pin: string;
}

export interface AppStatus {
  ready: boolean;
  store_name: string | null;
  store_code: string | null;
  terminal_code: string | null;
  language: Language;
  user: UserView | null;
  shift_open: boolean;
  demo: DemoInfo | null;
  auto_lock_secs: number;
  time_zone: string;
}

export type Unit = "Piece" | "Kilogram" | "Gram";

export interface ProductHit {
  product_id: string;
  sku: string;
  name: string;
  price: Money;
  unit: Unit;
  active: boolean;
}

export interface Category {
  id: string;
  name: string;
  parent: string | null;
}

export type Discount = { Amount: Money } | { Percent: string };

export interface TaxRule {
  class: string;
  name: string;
  rate_percent: string;
  base_numerator: number;
  base_denominator: number;
}

export interface ProductSnapshot {
  product_id: string;
  variant_id: string | null;
  sku: string;
  name: string;
  category_id: string | null;
  unit: Unit;
  unit_price: Money;
  tax: TaxRule;
}

export interface CartLine {
  id: string;
  item: ProductSnapshot;
  quantity: Quantity;
  discount: Discount | null;
  note: string | null;
}

export interface Cart {
  id: string;
  lines: CartLine[];
  discount: Discount | null;
  note: string | null;
}

export interface TaxSplit {
  net: Money;
  dpp: Money;
  tax: Money;
  gross: Money;
}

export interface PricedLine {
  line_id: string;
  item: ProductSnapshot;
  quantity: Quantity;
  note: string | null;
  base: Money;
  line_discount: Money;
  promotion_discount: Money;
  cart_discount_share: Money;
  amount: Money;
  tax: TaxSplit;
  promotions: string[];
}

export interface CartTotals {
  subtotal: Money;
  line_discounts: Money;
  promotion_discounts: Money;
  cart_discount: Money;
  tax: TaxSplit;
}

export interface PricedCart {
  lines: PricedLine[];
  totals: CartTotals;
  cart_discount: Discount | null;
}

export interface CartView {
  cart: Cart;
  priced: PricedCart | null;
  supervisor_reason: SupervisorReason | null;
  promotions: string[];
  warning: string | null;
}

export interface ParkedSummary {
  cart_id: string;
  label: string | null;
  parked_at: string;
  parked_by: string;
  terminal_code: string;
  lines: number;
}

export interface SaleSummary {
  sale_id: string;
  receipt_no: string;
  created_at: string;
  total: Money;
  cashier_name: string;
  payment_methods: string[];
  on_server: boolean;
}

export type PaymentMethod =
  | "Cash"
  | { Qris: { mode: "Static" | "Dynamic" } }
  | "Card"
  | { EWallet: { provider: string } }
  | { Other: { name: string } };

export interface Tender {
  method: PaymentMethod;
  amount: Money;
  reference: string | null;
}

export interface Approval {
  userId: string;
  pin: string;
}

export interface Due {
  total: Money;
  cash_total: Money;
  quick_amounts: Money[];
  qris_payload: string | null;
}

/** A dynamic QRIS charge (pos-core's GatewayCharge). */
export interface GatewayCharge {
  payment_id: string;
  amount: Money;
  provider: string;
  status: "creating" | "pending" | "paid" | "expired" | "cancelled" | "denied" | "failed" | "partially_refunded" | "refunded";
  qr_string: string;
  /** Milliseconds since the epoch. */
  expires_at: number;
  reference: string | null;
  /** The cashier gave up on it before the money arrived. */
  abandoned: boolean;
  sale_id: string | null;
  /** How the cashier settled it when no sale took it. */
  resolution: "refunded" | "dismissed" | null;
}

export interface Paid {
  sale_id: string;
  receipt_no: string;
  total: Money;
  change: Money;
  paid_ms: number;
  /** The sale's public receipt page (its receipt's QR code); null on a demo till. */
  receipt_link: string | null;
}

/** One email send of a sale's receipt (pos-core `receipt_mail::ReceiptSend`). */
export interface ReceiptSend {
  send_id: string;
  sale_id: string;
  /** Null once the store's retention has passed. */
  email: string | null;
  lang: string;
  /** `waiting`: offline or not synced yet (sent automatically); `failed`: refused for good. */
  state: "waiting" | "sent" | "failed";
  created_at: number;
  sent_at: number | null;
  attempts: number;
  last_error: string | null;
}

export type JobState =
  | "Waiting"
  | "Retrying"
  | "Held"
  | "Printing"
  | "Printed"
  | "Failed"
  | "Cancelled";

export interface QueuedJob {
  job_id: number;
  kind: string;
  record_id: string;
  number: string | null;
  copy: boolean;
  copy_of: number | null;
  printer_id: number | null;
  printer: string | null;
  state: JobState;
  description: string;
  last_error: string | null;
  attempts: number;
  next_attempt_at: string | null;
  created_at: string;
}

export interface Printer {
  id: number;
  name: string;
  target: string;
  profile: unknown;
  enabled: boolean;
  is_default: boolean;
  last_status: string | null;
}

export interface NewPrinter {
  name: string;
  target: string;
  profile: unknown;
  is_default: boolean;
}

export type SyncWarning =
  | { kind: "offline_too_long"; since: string }
  | { kind: "queue_too_long"; waiting_sales: number }
  | { kind: "clock_skew"; skew_ms: number }
  | { kind: "update_required"; outdated: "till" | "server" };

export interface SyncStatus {
  online: boolean;
  last_sync: string | null;
  waiting_documents: number;
  waiting_sales: number;
  clock_skew_ms: number | null;
  warnings: SyncWarning[];
  last_error: string | null;
}

export interface LanPeer {
  terminal_code: string;
  address: string;
  inbound: boolean;
}

export interface LanStatus {
  listening: string | null;
  peers: LanPeer[];
  refused: number;
  discovered: string[];
  last_error: string | null;
}

export interface SyncView {
  server: SyncStatus | null;
  lan: LanStatus | null;
  enrolled: boolean;
}

export interface StoreSettings {
  store_name: string;
  address: string;
  npwp: string | null;
  currency_code: string;
  currency_minor_units: number;
  price_mode: "Inclusive" | "Exclusive";
  tax_rules: TaxRule[];
  cash_rounding_unit: Money;
  business_day: { time_zone: string; cutoff_hour: number };
  receipt_header: string[];
  receipt_footer: string[];
  supervisor_discount_percent: string;
  offline_warning_hours: number;
  /** Absent before core added it. */
  qris_static_payload?: string | null;
}

/** Why a supervisor must approve (pos-core's `SupervisorReason`). */
export type SupervisorReason =
  | { kind: "line_discount"; product: string; threshold: string }
  | { kind: "cart_discount"; threshold: string };

/** A folder an export can go to (pos-core's `ExportDestination`). */
export interface ExportDestination {
  path: string;
  label: string;
  removable: boolean;
}

/** What an export wrote. */
export interface ExportSummary {
  path: string;
  documents: number;
  bytes: number;
}
