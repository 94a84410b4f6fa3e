//! The app's state as signals, and the actions that change it. Every action calls the shell
//! once and puts what it answers into a signal; components read the signals they show, so a
//! cart change re-renders the cart, not the screen.

import { batch, computed, signal } from "@preact/signals";
import { enrolment, payment, printing, selling, session, settings, sync } from "./api";
import type {
  AppError,
  AppStatus,
  Approval,
  CartLine,
  CartView,
  Discount,
  Paid,
  ProductHit,
  QueuedJob,
  SaleSummary,
  StoreSettings,
  SupervisorReason,
  SyncView,
  Tender,
  UserView,
} from "./api/types";
import { toAppError } from "./api/call";
import { errorText, lang, t, type Key } from "./i18n";
import type { CurrencyFmt } from "./money";
import { IDR } from "./money";
import { recordAfterFrame, recordCommit } from "./perf";

export const status = signal<AppStatus | null>(null);
export const users = signal<UserView[]>([]);
export const cartView = signal<CartView | null>(null);
export const store = signal<StoreSettings | null>(null);
export const syncView = signal<SyncView | null>(null);
export const daySales = signal<SaleSummary[]>([]);
export const lastPaid = signal<Paid | null>(null);
export const printJobs = signal<Record<number, QueuedJob>>({});
/** The cart pos-core reported as resumed on two tills: warned about until it is paid or left. */
export const resumedTwice = signal<string | null>(null);
/** Line that was just added or changed (highlighted, scrolled into view). */
export const lastLineId = signal<string | null>(null);

export type View = "sell" | "pay" | "paid";
export const view = signal<View>("sell");

export type Overlay =
  | { kind: "help" }
  | { kind: "sales" }
  | { kind: "parked" }
  | { kind: "qty"; line: CartLine }
  | { kind: "weight"; name: string; apply: (q: string) => Promise<void> }
  | { kind: "discount"; line: CartLine | null }
  | { kind: "note"; line: CartLine }
  | { kind: "supervisor"; reason: SupervisorReason | null; approve: (a: Approval) => Promise<void> }
  | { kind: "export" };
export const overlay = signal<Overlay | null>(null);

export interface Toast {
  id: number;
  text: string;
  kind: "error" | "info";
}
export const toast = signal<Toast | null>(null);
let toastSeq = 0;
let toastTimer: ReturnType<typeof setTimeout> | undefined;

export function showToast(text: string, kind: Toast["kind"] = "info"): void {
  toast.value = { id: ++toastSeq, text, kind };
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (toast.value = null), kind === "error" ? 6000 : 3000);
}

export function showError(e: unknown): void {
  showToast(errorText(toAppError(e)), "error");
}

export function info(key: Key, params?: Record<string, unknown>): void {
  showToast(t(key, params), "info");
}

export const currency = computed<CurrencyFmt>(() => {
  const s = store.value;
  return s ? { code: s.currency_code, minor_units: s.currency_minor_units } : IDR;
});

export function setStatus(s: AppStatus): void {
  batch(() => {
    status.value = s;
    lang.value = s.language;
  });
  document.documentElement.lang = s.language;
}

/** Runs an action; a refusal becomes a toast. Returns undefined when refused. */
export async function attempt<T>(f: () => Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch (e) {
    showError(e);
    return undefined;
  }
}

// ---- start ----

export async function loadStatus(): Promise<void> {
  const s = await session.status();
  setStatus(s);
  if (s.ready) await afterReady();
}

/** What the screens need once a store exists: users for the PIN screen, settings, cart. */
export async function afterReady(): Promise<void> {
  const [u, st, sv] = await Promise.all([
    attempt(session.users),
    attempt(settings.store),
    attempt(sync.status),
  ]);
  batch(() => {
    if (u) users.value = u;
    if (st) store.value = st;
    if (sv && !syncView.value) syncView.value = sv;
  });
}

export async function afterLogin(): Promise<void> {
  const cv = await attempt(selling.cart);
  if (cv) cartView.value = cv;
  void refreshSales();
}

// ---- first run and session ----

export async function startDemo(): Promise<void> {
  const s = await attempt(enrolment.startDemo);
  if (s) {
    setStatus(s);
    await afterReady();
  }
}

export async function enrol(serverUrl: string, code: string): Promise<void> {
  const s = await attempt(() => enrolment.enrol(serverUrl, code));
  if (s) {
    setStatus(s);
    await afterReady();
  }
}

/** Returns the error so the PIN screen can clear the pad. */
export async function login(userId: string, pin: string): Promise<AppError | null> {
  try {
    const s = await session.login(userId, pin);
    setStatus(s);
    if (s.user) await afterLogin();
    return null;
  } catch (e) {
    const err = toAppError(e);
    showToast(errorText(err), "error");
    return err;
  }
}

export async function startShift(openingFloat: string): Promise<void> {
  const s = await attempt(() => session.startShift(openingFloat));
  if (s) setStatus(s);
}

export async function lock(): Promise<void> {
  const s = await attempt(session.lock);
  if (s) {
    batch(() => {
      overlay.value = null;
      if (view.value === "paid") view.value = "sell";
      setStatus(s);
    });
  }
}

export async function toggleLanguage(): Promise<void> {
  const next = lang.value === "id" ? "en" : "id";
  // The screen switches at once; the shell stores it for the next start.
  lang.value = next;
  document.documentElement.lang = next;
  const s = await attempt(() => session.setLanguage(next));
  if (s) setStatus(s);
}

// ---- cart ----

function applyCart(cv: CartView, changedLine?: string | null): void {
  const before = new Set(cartView.value?.cart.lines.map((l) => `${l.id}:${l.quantity}`) ?? []);
  batch(() => {
    cartView.value = cv;
    if (changedLine !== undefined) {
      lastLineId.value = changedLine;
    } else {
      // The line that is new or whose quantity changed (a scan or an add).
      const changed = cv.cart.lines.find((l) => !before.has(`${l.id}:${l.quantity}`));
      lastLineId.value = changed?.id ?? lastLineId.value;
    }
  });
  if (cv.warning === "resumed_twice") resumedTwice.value = cv.cart.id;
}

async function cartAction(f: () => Promise<CartView>, changedLine?: string | null) {
  const cv = await attempt(f);
  if (cv) applyCart(cv, changedLine);
  return cv;
}

/** A scan from the scanner; `start` is the Enter's keydown time, for __snapkasirPerf.
 * `codes` are tried in order (from the search box: the whole box, then the scanner's burst:
 * a stall in the middle of a burst leaves its start looking typed). When `fallbackToSearch`,
 * a text no product carries as a code is searched and its first hit added (a name typed
 * quickly and ended with Enter). */
export async function scan(codes: string | string[], start: number, fallbackToSearch = false) {
  const tried = [...new Set(typeof codes === "string" ? [codes] : codes)].filter((c) => c !== "");
  for (const code of tried) {
    try {
      const cv = await selling.scan(code);
      applyCart(cv);
      recordAfterFrame("scans", start);
      return true;
    } catch (e) {
      const err = toAppError(e);
      if (err.code !== "not_found" && err.code !== "unknown_barcode") {
        showToast(errorText(err), "error");
        return false;
      }
    }
  }
  if (fallbackToSearch && tried.length > 0) {
    const hits = await attempt(() => selling.search(tried[0], 1));
    if (hits && hits.length > 0) {
      await addHit(hits[0]);
      return true;
    }
  }
  showToast(t("sell.not_found", { code: tried[tried.length - 1] ?? "" }), "error");
  return false;
}

export function isWeighed(unit: string): boolean {
  return unit !== "Piece";
}

/** Adds a search or category hit; weighed items ask for the weight first. */
export async function addHit(hit: ProductHit): Promise<void> {
  if (isWeighed(hit.unit)) {
    overlay.value = {
      kind: "weight",
      name: hit.name,
      apply: async (q) => {
        const cv = await cartAction(() => selling.addProduct(hit.product_id, null, q));
        if (cv) overlay.value = null;
      },
    };
    return;
  }
  await cartAction(() => selling.addProduct(hit.product_id, null, "1"));
}

export const setQuantity = (lineId: string, q: string) =>
  cartAction(() => selling.setQuantity(lineId, q), lineId);
export const removeLine = (lineId: string) =>
  cartAction(() => selling.removeLine(lineId), null);
export const setLineDiscount = (lineId: string, d: Discount | null) =>
  cartAction(() => selling.setLineDiscount(lineId, d), lineId);
export const setLineNote = (lineId: string, note: string | null) =>
  cartAction(() => selling.setLineNote(lineId, note), lineId);
export const setCartDiscount = (d: Discount | null) =>
  cartAction(() => selling.setCartDiscount(d), null);
export const clearCart = () => cartAction(() => selling.clearCart(), null);

export async function park(): Promise<void> {
  if (!cartView.value?.cart.lines.length) return;
  const cv = await cartAction(() => selling.park(null), null);
  if (cv) info("sell.parked_done");
}

export async function resume(cartId: string): Promise<void> {
  const cv = await cartAction(() => selling.resume(cartId), null);
  if (cv) overlay.value = null;
}

export async function refreshSales(): Promise<void> {
  const s = await attempt(selling.daySales);
  if (s) daySales.value = s;
}

// ---- payment ----

export async function openPayment(): Promise<void> {
  if (!cartView.value?.priced) return;
  overlay.value = null;
  view.value = "pay";
}

/** Pays; asks for a supervisor when the cart or the shell says one is needed.
 * `gatewayPayment`: a paid dynamic QRIS charge that pays its part (see `payment.pay`). */
export async function pay(tenders: Tender[], start: number, gatewayPayment: string | null = null): Promise<void> {
  // The cart shows why a supervisor is needed (a banner); the PIN is asked at payment, the one
  // command that takes an approval.
  const reason = cartView.value?.supervisor_reason;
  const go = (a: Approval | null, at: number) => payWith(tenders, a, at, gatewayPayment);
  if (reason) {
    askSupervisor(reason, (a) => go(a, start));
    return;
  }
  await go(null, start);
}

function askSupervisor(reason: SupervisorReason | null, approve: (a: Approval) => Promise<void>): void {
  overlay.value = { kind: "supervisor", reason, approve };
}

async function payWith(tenders: Tender[], given: Approval | null, start: number, gatewayPayment: string | null) {
  try {
    const paid = await payment.pay(tenders, given, gatewayPayment);
    batch(() => {
      lastPaid.value = paid;
      overlay.value = null;
      view.value = "paid";
      cartView.value = cartView.value && {
        cart: { ...cartView.value.cart, lines: [], discount: null },
        priced: null,
        supervisor_reason: null,
        promotions: [],
        warning: null,
      };
    });
    recordAfterFrame("pays", start);
    recordCommit(paid.paid_ms);
    void attempt(selling.cart).then((cv) => cv && (cartView.value = cv));
    void refreshSales();
  } catch (e) {
    const err = toAppError(e);
    const refused = ["wrong_pin", "user_locked", "not_authorized"].includes(err.code);
    if (given && refused) {
      // The approval was refused (wrong PIN, not a supervisor): ask again.
      askSupervisor(cartView.value?.supervisor_reason ?? null, (a) => payWith(tenders, a, performance.now(), gatewayPayment));
      showToast(errorText(err), "error");
      return;
    }
    if (err.code === "supervisor_required") {
      const r = typeof err.params.kind === "string" ? (err.params as unknown as SupervisorReason) : null;
      askSupervisor(r, (a) => payWith(tenders, a, performance.now(), gatewayPayment));
      if (given) showToast(errorText(err), "error");
      return;
    }
    showToast(errorText(err), "error");
  }
}

export function newSale(): void {
  batch(() => {
    view.value = "sell";
    lastPaid.value = null;
    overlay.value = null;
  });
}

export async function printReceipt(saleId: string): Promise<void> {
  const job = await attempt(() => printing.print(saleId));
  if (job) {
    printJobs.value = { ...printJobs.value, [job.job_id]: job };
    info("print.queued");
  }
}

export function onPrintJob(job: QueuedJob): void {
  printJobs.value = { ...printJobs.value, [job.job_id]: job };
}

export const openDrawer = () => attempt(printing.openDrawer);
