//! A fake shell for looking at the screens in a browser (fake.html, `npm run dev`); never part
//! of the production bundle (vite builds index.html only). Query parameters pick a start:
//! `?at=first|pin|float|sell|pay|paid&lang=en&lines=3&offline=1&warn=1`.

import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import type {
  AppStatus,
  Cart,
  CartLine,
  CartView,
  Category,
  Discount,
  PricedCart,
  ProductHit,
  SaleSummary,
  SyncView,
  Tender,
  UserView,
} from "../api/types";

const q = new URLSearchParams(location.search);
const at = q.get("at") ?? "first";
let lineSeq = 0;
const qrisCharges = new Map<string, Record<string, any>>();
let lateDone = false;
const mode = () => q.get("qris");
const uid = (p: string) => `${p}-${Math.random().toString(16).slice(2, 10)}`;

const cats: Category[] = [
  { id: "c-drink", name: "Minuman", parent: null },
  { id: "c-snack", name: "Makanan ringan", parent: null },
  { id: "c-fresh", name: "Sayur & buah", parent: null },
  { id: "c-home", name: "Kebutuhan rumah", parent: null },
  { id: "c-baby", name: "Ibu & bayi", parent: null },
  { id: "c-frozen", name: "Beku", parent: null },
];
const products: (ProductHit & { cat: string; barcode: string })[] = [
  { product_id: "p1", sku: "AQ600", name: "Aqua Air Mineral 600 ml", price: "3500", unit: "Piece", active: true, cat: "c-drink", barcode: "8886008101053" },
  { product_id: "p2", sku: "TB350", name: "Teh Botol Sosro 350 ml", price: "5000", unit: "Piece", active: true, cat: "c-drink", barcode: "8992761111113" },
  { product_id: "p3", sku: "IDM-GRG", name: "Indomie Goreng Original 85 g", price: "3100", unit: "Piece", active: true, cat: "c-snack", barcode: "089686010947" },
  { product_id: "p4", sku: "CHT-BIG", name: "Chitato Sapi Panggang 68 g", price: "11900", unit: "Piece", active: true, cat: "c-snack", barcode: "089686590128" },
  { product_id: "p5", sku: "APL-FJ", name: "Apel Fuji", price: "42000", unit: "Kilogram", active: true, cat: "c-fresh", barcode: "2000001" },
  { product_id: "p6", sku: "BRS-5", name: "Beras Pandan Wangi 5 kg", price: "78500", unit: "Piece", active: true, cat: "c-home", barcode: "8993093665029" },
  { product_id: "p7", sku: "SBN-LF", name: "Sabun Lifebuoy Merah 75 g (kemasan lama, tidak dijual)", price: "4200", unit: "Piece", active: false, cat: "c-home", barcode: "8999999003" },
];

const users: UserView[] = [
  { id: "u1", name: "Sari", role: "Cashier" },
  { id: "u2", name: "Budi", role: "Supervisor" },
  { id: "u3", name: "Dewi", role: "Cashier" },
];

const status: AppStatus = {
  ready: at !== "first",
  store_name: "Toko Maju Jaya",
  store_code: "TMJ",
  terminal_code: "T1",
  language: q.get("lang") === "en" ? "en" : "id",
  user: ["first", "pin"].includes(at) ? null : users[0],
  shift_open: !["first", "pin", "float"].includes(at),
  demo: { cashier_name: "Sari", cashier_pin: "1111", supervisor_name: "Budi", supervisor_pin: "9999" },
  auto_lock_secs: 600,
  time_zone: "Asia/Jakarta",
};

let cart: Cart = { id: uid("cart"), lines: [], discount: null, note: null };
const parked: { id: string; cart: Cart; by: string; term: string; at: string; label: string | null }[] = [
  { id: "k1", cart: { id: "k1", lines: [], discount: null, note: null }, by: "Dewi", term: "T2", at: new Date(Date.now() - 600000).toISOString(), label: "Bu Rina" },
];
const sales: SaleSummary[] = [];
/** The email receipts asked for (printing.email_receipt). */
const emailSends: { send_id: string; sale_id: string; email: string | null; lang: string; state: string; created_at: number; sent_at: number | null; attempts: number; last_error: string | null }[] = [];
let receiptSeq = 0;

const D = (s: string) => Number(s); // display-only arithmetic: the fake is not the money path

function discountOn(d: Discount | null, amount: number): number {
  if (!d) return 0;
  return "Amount" in d ? Math.min(D(d.Amount), amount) : Math.round((amount * D(d.Percent)) / 100);
}

function priced(): PricedCart | null {
  if (cart.lines.length === 0) return null;
  const lines = cart.lines.map((l) => {
    const base = Math.round(D(l.item.unit_price) * D(l.quantity));
    const ld = discountOn(l.discount, base);
    const promo = l.item.sku === "AQ600" && D(l.quantity) >= 3 ? 1500 : 0;
    return { l, base, ld, promo, after: base - ld - promo };
  });
  const sum = lines.reduce((a, x) => a + x.after, 0);
  const cd = discountOn(cart.discount, sum);
  let left = cd;
  const out = lines.map((x, i) => {
    const share = i === lines.length - 1 ? left : Math.round((cd * x.after) / (sum || 1));
    left -= share;
    const amount = x.after - share;
    const tax = Math.round((amount * 11) / 111);
    return {
      line_id: x.l.id, item: x.l.item, quantity: x.l.quantity, note: x.l.note,
      base: String(x.base), line_discount: String(x.ld), promotion_discount: String(x.promo),
      cart_discount_share: String(share), amount: String(amount),
      tax: { net: String(amount - tax), dpp: String(amount - tax), tax: String(tax), gross: String(amount) },
      promotions: x.promo ? ["promo-aqua"] : [],
    };
  });
  const tot = (f: (l: (typeof out)[number]) => string) => String(out.reduce((a, l) => a + D(f(l)), 0));
  return {
    lines: out,
    totals: {
      subtotal: tot((l) => l.base), line_discounts: tot((l) => l.line_discount),
      promotion_discounts: tot((l) => l.promotion_discount), cart_discount: tot((l) => l.cart_discount_share),
      tax: { net: tot((l) => l.tax.net), dpp: tot((l) => l.tax.dpp), tax: tot((l) => l.tax.tax), gross: tot((l) => l.tax.gross) },
    },
    cart_discount: cart.discount,
  };
}

function view(warning: string | null = null): CartView {
  const p = priced();
  const big = cart.discount && "Percent" in cart.discount && D(cart.discount.Percent) > 10;
  return {
    cart: structuredClone(cart),
    priced: p,
    supervisor_reason: big ? { kind: "cart_discount" as const, threshold: "10" } : null,
    promotions: p?.lines.some((l) => l.promotions.length) ? ["Aqua 3 lebih hemat"] : [],
    warning,
  };
}

function err(code: string, params: Record<string, unknown> = {}) {
  return { code, message_key: `error.${code}`, params };
}

function add(p: (typeof products)[number], quantity: string): CartView {
  const same = cart.lines.find((l) => l.item.product_id === p.product_id && p.unit === "Piece" && !l.discount && !l.note);
  if (same) same.quantity = String(D(same.quantity) + D(quantity));
  else {
    const line: CartLine = {
      id: `line-${++lineSeq}`,
      item: { product_id: p.product_id, variant_id: null, sku: p.sku, name: p.name, category_id: p.cat, unit: p.unit, unit_price: p.price, tax: { class: "standard", name: "PPN 12%", rate_percent: "12", base_numerator: 11, base_denominator: 12 } },
      quantity, discount: null, note: null,
    };
    cart.lines.push(line);
  }
  return view();
}

const nLines = Number(q.get("lines") ?? (["sell", "pay", "paid"].includes(at) ? 4 : 0));
for (let i = 0; i < nLines; i++) {
  const p = products[i % 6];
  add(p, p.unit === "Piece" ? String(1 + (i % 3)) : "0.735");
}
if (nLines > 1) {
  cart.lines[1].discount = { Percent: "10" };
  cart.lines[0].note = "tanpa es";
}

parked[0].cart.lines = structuredClone(cart.lines.slice(0, 2)).map((l) => ({ ...l, id: `${l.id}-k` }));

const sync: SyncView = {
  enrolled: true,
  server: {
    online: q.get("offline") !== "1",
    last_sync: new Date(Date.now() - (q.get("offline") === "1" ? 26 * 3600e3 : 120e3)).toISOString(),
    waiting_documents: 1,
    waiting_sales: q.get("offline") === "1" ? 12 : 0,
    clock_skew_ms: null,
    warnings:
      q.get("warn") === "1"
        ? [{ kind: "offline_too_long", since: new Date(Date.now() - 26 * 3600e3).toISOString() }]
        : q.get("warn") === "update"
          ? [{ kind: "update_required", outdated: "till" }]
          : [],
    last_error: null,
  },
  lan: { listening: "0.0.0.0:7878", peers: [{ terminal_code: "T2", address: "192.168.1.12:7878", inbound: false }], refused: 0, discovered: ["T2"], last_error: null },
};

function receiptPng(no: string, total: string): string {
  const c = document.createElement("canvas");
  c.width = 384;
  c.height = 520;
  const g = c.getContext("2d")!;
  g.fillStyle = "#fff";
  g.fillRect(0, 0, c.width, c.height);
  g.fillStyle = "#000";
  g.font = "bold 22px monospace";
  g.fillText("TOKO MAJU JAYA", 90, 40);
  g.font = "16px monospace";
  [no, "", ...cart.lines.map((l) => l.item.name.slice(0, 30)), "", `TOTAL ${total}`].forEach((s, i) => g.fillText(s, 16, 90 + i * 24));
  return c.toDataURL("image/png").split(",")[1];
}

function handle(cmd: string, a: Record<string, any>): unknown {
  const [plugin, command] = cmd.replace("plugin:", "").split("|");
  switch (`${plugin}.${command}`) {
    case "session.status": return status;
    case "session.ui_ready": return null;
    case "session.users": return users;
    case "session.login": {
      const u = users.find((x) => x.id === a.userId);
      const pin = u?.role === "Supervisor" ? "9999" : "1111";
      if (!u || a.pin !== pin) throw err("wrong_pin", { attempts_left: 2 });
      status.user = u;
      return status;
    }
    case "session.start_shift": status.shift_open = true; return status;
    case "session.lock": status.user = null; return status;
    case "session.set_language": status.language = a.language; return status;
    case "enrolment.start_demo": status.ready = true; return status;
    case "enrolment.enrol": throw err("enrolment_failed", { reason: "server tidak dapat dihubungi" });
    case "selling.search": {
      const s = String(a.query).toLowerCase();
      return products.filter((p) => p.name.toLowerCase().includes(s) || p.sku.toLowerCase().includes(s) || p.barcode === s).slice(0, a.limit);
    }
    case "selling.categories": return cats;
    case "selling.category_products": return products.filter((p) => p.cat === a.categoryId);
    case "selling.cart": return view();
    case "selling.scan": {
      const p = products.find((x) => x.barcode === a.code || x.sku === a.code);
      if (!p) throw err("not_found", { what: "barcode", id: a.code });
      return add(p, p.unit === "Piece" ? "1" : "0.5");
    }
    case "selling.add_product": return add(products.find((p) => p.product_id === a.productId)!, a.quantity);
    case "selling.set_quantity": cart.lines.find((l) => l.id === a.lineId)!.quantity = a.quantity; return view();
    case "selling.remove_line": cart.lines = cart.lines.filter((l) => l.id !== a.lineId); return view();
    case "selling.set_line_discount": cart.lines.find((l) => l.id === a.lineId)!.discount = a.discount; return view();
    case "selling.set_line_note": cart.lines.find((l) => l.id === a.lineId)!.note = a.note; return view();
    case "selling.set_cart_discount": cart.discount = a.discount; return view();
    case "selling.clear_cart": cart.lines = []; return view();
    case "selling.park":
      parked.push({ id: cart.id, cart, by: status.user!.name, term: "T1", at: new Date().toISOString(), label: a.label });
      cart = { id: uid("cart"), lines: [], discount: null, note: null };
      return view();
    case "selling.parked":
      return parked.map((p) => ({ cart_id: p.id, label: p.label, parked_at: p.at, parked_by: p.by, terminal_code: p.term, lines: p.cart.lines.length }));
    case "selling.resume": {
      const i = parked.findIndex((p) => p.id === a.cartId);
      const [p] = parked.splice(i, 1);
      cart = p.cart;
      return view(p.term === "T2" ? "resumed_twice" : null);
    }
    case "selling.day_sales": return [...sales].reverse();
    case "payment.due": {
      const total = priced()?.totals.tax.gross ?? "0";
      const cash = String(Math.round(D(total) / 100) * 100);
      return { total, cash_total: cash, quick_amounts: ["50000", "100000"].filter((x) => D(x) > D(cash)), qris_payload: "00020101021126570011ID.DANA.WWW011893600915302259148102090225914810303UMI51440014ID.CO.QRIS.WWW0215ID10200176114730303UMI5204581253033605802ID5912TOKO MAJU JAYA6007JAKARTA61051234062070703A016304ABCD" };
    }
    case "payment.qris_start": {
      // `?qris=paid` pays the code after 1.5 s, `?qris=expire` makes it expire in 3 s.
      const mode = q.get("qris");
      const charge = {
        payment_id: uid("pay"),
        amount: String(a.amount),
        provider: "midtrans",
        status: "pending",
        qr_string: "00020101021226620014COM.GO-JEK.WWW01189360091430000000000215ID1020000000000303UMI51440014ID.CO.QRIS.WWW0215ID10200000000000303UMI5204581253033605802ID5913TOKO MAJU JAYA6007JAKARTA6304ABCD",
        expires_at: Date.now() + (mode === "expire" ? 3000 : 5 * 60 * 1000),
        reference: null,
        abandoned: false,
        sale_id: null,
      };
      qrisCharges.set(charge.payment_id, charge);
      if (mode === "paid") setTimeout(() => void emit("payment://qris", Object.assign(charge, { status: "paid", reference: "tx-7f3k" })), 1500);
      return { ...charge };
    }
    case "payment.qris_cancel": {
      const c = qrisCharges.get(a.paymentId);
      if (!c) throw err("not_found", { what: "QRIS payment", id: a.paymentId });
      if (c.status === "pending") Object.assign(c, { status: mode() === "expire" ? "expired" : "cancelled", abandoned: true });
      return { ...c };
    }
    case "payment.late_payments":
      return q.get("late") === "1" && !lateDone ? [{ payment_id: "pay-late", amount: "27500", provider: "xendit", status: "paid", qr_string: "", expires_at: 0, reference: "qrpy_8c1e", abandoned: true, sale_id: null }] : [];
    case "payment.resolve_late":
      lateDone = true;
      return { payment_id: a.paymentId, amount: "27500", provider: "xendit", status: "paid", qr_string: "", expires_at: 0, reference: "qrpy_8c1e", abandoned: true, sale_id: null };
    case "payment.pay": {
      const total = D(priced()?.totals.tax.gross ?? "0");
      const tenders = a.tenders as Tender[];
      if (view().supervisor_reason && !a.approval) throw err("supervisor_required", { reason: "a cart discount above 10%", kind: "cart_discount", threshold: "10" });
      const cashDue = Math.round((total - tenders.filter((t) => t.method !== "Cash").reduce((s, t) => s + D(t.amount), 0)) / 100) * 100;
      const cash = tenders.filter((t) => t.method === "Cash").reduce((s, t) => s + D(t.amount), 0);
      const no = `TMJ-T1-261202-${String(++receiptSeq).padStart(4, "0")}`;
      const png = receiptPng(no, String(total));
      (window as any).__fakePng = png;
      sales.push({ sale_id: uid("sale"), receipt_no: no, created_at: new Date().toISOString(), total: String(total), cashier_name: status.user!.name, payment_methods: tenders.map((t) => (typeof t.method === "string" ? t.method.toLowerCase() : "Qris" in t.method ? "qris" : "EWallet" in t.method ? `ewallet:${t.method.EWallet.provider}` : "other")), on_server: false });
      cart = { id: uid("cart"), lines: [], discount: null, note: null };
      const sale = sales[sales.length - 1];
      setTimeout(() => {
        sale.on_server = true;
        void emit("sales://changed", null);
      }, 3000);
      return { sale_id: sale.sale_id, receipt_no: no, total: String(total), change: String(Math.max(0, cash - cashDue)), paid_ms: 0.4, receipt_link: `https://pos.example.com/r/${"0123456789abcdef".repeat(2)}` };
    }
    case "printing.receipt_preview": return (window as any).__fakePng;
    case "printing.print": {
      const job = { job_id: Date.now(), kind: "receipt", record_id: a.saleId, number: null, copy: false, copy_of: null, printer_id: 1, printer: "Kasir", state: "Waiting", description: "waiting", last_error: null, attempts: 0, next_attempt_at: null, created_at: new Date().toISOString() };
      setTimeout(() => void emit("print://job", { ...job, state: "Printed" }), 800);
      return job;
    }
    case "printing.open_drawer": return null;
    case "printing.email_receipt": {
      // Sends to an address with "offline" wait; one with "bad" is refused; others go out
      // after two seconds, as the till's queue would once the server has the sale.
      const email = String(a.email).trim();
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw err("invalid_input", { detail: `${JSON.stringify(email)} is not an email address (like name@example.com)` });
      const send = { send_id: uid("send"), sale_id: a.saleId, email, lang: status.language, state: "waiting", created_at: Date.now(), sent_at: null as number | null, attempts: 0, last_error: null as string | null };
      emailSends.push(send);
      if (!email.includes("offline")) {
        setTimeout(() => {
          send.attempts = 1;
          if (email.includes("bad")) {
            send.state = "failed";
            send.last_error = "the mailbox does not exist";
          } else {
            send.state = "sent";
            send.sent_at = Date.now();
          }
        }, 2000);
      }
      return emailSends.filter((s) => s.sale_id === a.saleId);
    }
    case "printing.receipt_sends": return emailSends.filter((s) => s.sale_id === a.saleId);
    case "sync.status": return sync;
    case "sync.sync_now": return null;
    case "settings.store":
      return { store_name: "Toko Maju Jaya", address: "Jl. Merdeka 1", npwp: null, currency_code: "IDR", currency_minor_units: 0, price_mode: "Inclusive", tax_rules: [], cash_rounding_unit: "100", business_day: { time_zone: "Asia/Jakarta", cutoff_hour: 4 }, receipt_header: [], receipt_footer: [], supervisor_discount_percent: "10", offline_warning_hours: 24 };
  }
  throw err("internal", { detail: `fake backend has no ${cmd}` });
}

mockIPC((cmd, args) => handle(cmd, (args ?? {}) as Record<string, any>), { shouldMockEvents: true });
(window as any).__fakeEmit = emit;

// Screens reached by clicking, opened directly for screenshots.
void import("../state").then((st) => {
  setTimeout(() => {
    if (at === "pay") st.view.value = "pay";
    if (at === "paid") void st.pay([{ method: "Cash", amount: "200000", reference: null }], performance.now());
    const line = st.cartView.value?.cart.lines[0];
    const click = q.get("click");
    click?.split(",").forEach((id, i) => setTimeout(() => document.querySelector<HTMLElement>(`[data-testid=${id}]`)?.click(), 200 + 150 * i));
    const typed = q.get("search");
    const input = document.querySelector<HTMLInputElement>("[data-testid=search-input]");
    if (typed !== null && input) {
      input.value = typed;
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }
    switch (q.get("open")) {
      case "help": st.overlay.value = { kind: "help" }; break;
      case "sales": st.overlay.value = { kind: "sales" }; break;
      case "parked": st.overlay.value = { kind: "parked" }; break;
      case "discount": st.overlay.value = { kind: "discount", line: line ?? null }; break;
      case "note": if (line) st.overlay.value = { kind: "note", line }; break;
      case "qty": if (line) st.overlay.value = { kind: "qty", line }; break;
      case "weight": st.overlay.value = { kind: "weight", name: "Apel Fuji", apply: async () => {} }; break;
      case "supervisor": st.overlay.value = { kind: "supervisor", reason: { kind: "cart_discount" as const, threshold: "10" }, approve: async () => {} }; break;
      case "toast": st.showToast("Barcode 8990000000 tidak dikenal.", "error"); break;
    }
  }, 300);
});

// `check=1`: the e2e tour's layout check (buttons under 44 px, panels that overflow), written
// into the page for `chromium --dump-dom`.
if (q.get("check") === "1") {
  setTimeout(() => {
    const bad: string[] = [];
    const shown = (e: Element) => {
      const r = e.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== "hidden";
    };
    const name = (e: Element) => e.getAttribute("data-testid") || (e.className && String(e.className)) || e.tagName;
    if (document.documentElement.scrollWidth > window.innerWidth + 1) bad.push(`page wider than the window: ${document.documentElement.scrollWidth}`);
    for (const e of document.querySelectorAll("main, header, section, .dialog, .dialog-body, .lines, .hits, .cat-grid, .totals, .cart-buttons, .pay-buttons, .methods")) {
      if (shown(e) && e.scrollWidth > e.clientWidth + 1) bad.push(`overflows: ${name(e)} ${e.scrollWidth} > ${e.clientWidth}`);
    }
    for (const b of document.querySelectorAll("button")) {
      if (!shown(b)) continue;
      const h = b.getBoundingClientRect().height;
      if (h < 44 - 0.5) bad.push(`button under 44px: ${name(b)} "${(b.textContent ?? "").trim().slice(0, 30)}" ${h.toFixed(1)}`);
    }
    const pre = document.createElement("pre");
    pre.id = "layout-check";
    pre.textContent = `LAYOUT[${bad.join(" | ")}]`;
    document.body.appendChild(pre);
  }, 1500);
}
