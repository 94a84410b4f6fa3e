//! Typed wrappers per plugin, one function per command of contract.md.

import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { call } from "./call";
import type {
  AppStatus,
  Approval,
  CartView,
  Category,
  Discount,
  Due,
  ExportDestination,
  ExportSummary,
  GatewayCharge,
  Language,
  Money,
  NewPrinter,
  Paid,
  ParkedSummary,
  Printer,
  ProductHit,
  QueuedJob,
  ReceiptSend,
  SaleSummary,
  StoreSettings,
  SyncView,
  Tender,
  UserView,
} from "./types";

export const session = {
  status: () => call<AppStatus>("session", "status"),
  users: () => call<UserView[]>("session", "users"),
  login: (userId: string, pin: string) => call<AppStatus>("session", "login", { userId, pin }),
  startShift: (openingFloat: string) =>
    call<AppStatus>("session", "start_shift", { openingFloat }),
  lock: () => call<AppStatus>("session", "lock"),
  setLanguage: (language: Language) => call<AppStatus>("session", "set_language", { language }),
  uiReady: () => call<void>("session", "ui_ready"),
};

export const enrolment = {
  startDemo: () => call<AppStatus>("enrolment", "start_demo"),
  enrol: (serverUrl: string, code: string) =>
    call<AppStatus>("enrolment", "enrol", { serverUrl, code }),
};

export const selling = {
  search: (query: string, limit: number) =>
    call<ProductHit[]>("selling", "search", { query, limit }),
  categories: () => call<Category[]>("selling", "categories"),
  categoryProducts: (categoryId: string, limit: number) =>
    call<ProductHit[]>("selling", "category_products", { categoryId, limit }),
  cart: () => call<CartView>("selling", "cart"),
  scan: (code: string) => call<CartView>("selling", "scan", { code }),
  addProduct: (productId: string, variantId: string | null, quantity: string) =>
    call<CartView>("selling", "add_product", { productId, variantId, quantity }),
  setQuantity: (lineId: string, quantity: string) =>
    call<CartView>("selling", "set_quantity", { lineId, quantity }),
  removeLine: (lineId: string) => call<CartView>("selling", "remove_line", { lineId }),
  setLineDiscount: (lineId: string, discount: Discount | null) =>
    call<CartView>("selling", "set_line_discount", { lineId, discount }),
  setLineNote: (lineId: string, note: string | null) =>
    call<CartView>("selling", "set_line_note", { lineId, note }),
  setCartDiscount: (discount: Discount | null) =>
    call<CartView>("selling", "set_cart_discount", { discount }),
  clearCart: () => call<CartView>("selling", "clear_cart"),
  park: (label: string | null) => call<CartView>("selling", "park", { label }),
  parked: () => call<ParkedSummary[]>("selling", "parked"),
  resume: (cartId: string) => call<CartView>("selling", "resume", { cartId }),
  daySales: () => call<SaleSummary[]>("selling", "day_sales"),
};

export const payment = {
  due: () => call<Due>("payment", "due"),
  /** `gatewayPayment`: a paid dynamic QRIS charge that joins the tenders (its amount and
   * reference as the server said). */
  pay: (tenders: Tender[], approval: Approval | null, gatewayPayment: string | null = null) =>
    call<Paid>("payment", "pay", { tenders, approval, gatewayPayment }),
  qrisStart: (amount: Money) => call<GatewayCharge>("payment", "qris_start", { amount }),
  qrisCancel: (paymentId: string) => call<GatewayCharge>("payment", "qris_cancel", { paymentId }),
  latePayments: () => call<GatewayCharge[]>("payment", "late_payments"),
  resolveLate: (paymentId: string, action: "refund" | "dismiss") =>
    call<GatewayCharge>("payment", "resolve_late", { paymentId, action }),
};

export const printing = {
  receiptPreview: (saleId: string) => call<string>("printing", "receipt_preview", { saleId }),
  print: (saleId: string) => call<QueuedJob>("printing", "print", { saleId }),
  openDrawer: () => call<void>("printing", "open_drawer"),
  printers: () => call<Printer[]>("printing", "printers"),
  addPrinter: (printer: NewPrinter) => call<Printer>("printing", "add_printer", { printer }),
  /** Queues the receipt by email (sent through the server when online); the sale's sends. */
  emailReceipt: (saleId: string, email: string) =>
    call<ReceiptSend[]>("printing", "email_receipt", { saleId, email }),
  receiptSends: (saleId: string) => call<ReceiptSend[]>("printing", "receipt_sends", { saleId }),
};

export const sync = {
  status: () => call<SyncView>("sync", "status"),
  syncNow: () => call<void>("sync", "sync_now"),
};

export const settings = {
  store: () => call<StoreSettings>("settings", "store"),
};

export const storeExport = {
  destinations: () => call<ExportDestination[]>("export", "destinations"),
  run: (dir: string, approval: Approval) => call<ExportSummary>("export", "run", { dir, approval }),
};

/** The shell's events (contract.md "Events"); the UI never polls for these. */
export const events = {
  syncStatus: (f: (v: SyncView) => void): Promise<UnlistenFn> =>
    listen<SyncView>("sync://status", (e) => f(e.payload)),
  printJob: (f: (j: QueuedJob) => void): Promise<UnlistenFn> =>
    listen<QueuedJob>("print://job", (e) => f(e.payload)),
  salesChanged: (f: () => void): Promise<UnlistenFn> => listen("sales://changed", () => f()),
  qris: (f: (c: GatewayCharge) => void): Promise<UnlistenFn> =>
    listen<GatewayCharge>("payment://qris", (e) => f(e.payload)),
};
