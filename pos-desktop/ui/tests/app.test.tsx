// The app against a mocked shell (Tauri's own mockIPC): the scanner caught at window level,
// Enter in the search box, the payment flow and __snapkasirPerf, commands and arguments as
// contract.md names them.
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppStatus, CartView, ProductHit } from "../src/api/types";

const calls: { cmd: string; args: Record<string, unknown> }[] = [];
const hit: ProductHit = { product_id: "p1", sku: "AQ600", name: "Aqua 600 ml", price: "3500", unit: "Piece", active: true };
const status: AppStatus = {
  ready: true, store_name: "Toko Uji", store_code: "TU", terminal_code: "T1", language: "id",
  user: { id: "u1", name: "Sari", role: "Cashier" }, shift_open: true, demo: null,
  auto_lock_secs: 120, time_zone: "Asia/Jakarta",
};
const tax = { class: "standard", name: "PPN 12%", rate_percent: "12", base_numerator: 11, base_denominator: 12 };
let qty = 0;
/** The store's gateway as the shell answers `qris_start`: a code, or `no_gateway`. */
let gateway: "yes" | "none" = "yes";
let late: Record<string, unknown>[] = [];
let cartDiscount: { Percent: string } | null = null;

function cartView(): CartView {
  if (qty === 0) return { cart: { id: "c1", lines: [], discount: null, note: null }, priced: null, supervisor_reason: null, promotions: [], warning: null };
  const amount = String(3500 * qty);
  const split = { net: amount, dpp: amount, tax: "0", gross: amount };
  const item = { product_id: "p1", variant_id: null, sku: "AQ600", name: "Aqua 600 ml", category_id: null, unit: "Piece" as const, unit_price: "3500", tax };
  return {
    cart: { id: "c1", lines: [{ id: "l1", item, quantity: String(qty), discount: null, note: null }], discount: null, note: null },
    priced: {
      lines: [{ line_id: "l1", item, quantity: String(qty), note: null, base: amount, line_discount: "0", promotion_discount: "0", cart_discount_share: "0", amount, tax: split, promotions: [] }],
      totals: { subtotal: amount, line_discounts: "0", promotion_discounts: "0", cart_discount: "0", tax: split },
      cart_discount: null,
    },
    supervisor_reason: cartDiscount ? { kind: "cart_discount" as const, threshold: "10" } : null, promotions: [], warning: null,
  };
}

function shell(cmd: string, args: Record<string, unknown>): unknown {
  calls.push({ cmd, args });
  switch (cmd) {
    case "plugin:session|status": return status;
    case "plugin:session|users": return [status.user, { id: "u2", name: "Budi", role: "Supervisor" }];
    case "plugin:session|ui_ready": return null;
    case "plugin:settings|store": return { currency_code: "IDR", currency_minor_units: 0, price_mode: "Inclusive", cash_rounding_unit: "100", offline_warning_hours: 24 };
    case "plugin:sync|status": return { server: { online: false, last_sync: null, waiting_documents: 0, waiting_sales: 3, clock_skew_ms: null, warnings: [], last_error: null }, lan: null, enrolled: true };
    case "plugin:selling|cart": return cartView();
    case "plugin:selling|categories": return [];
    case "plugin:selling|day_sales": return [];
    case "plugin:selling|search": return String(args.query).toLowerCase().startsWith("aq") ? [hit] : [];
    case "plugin:selling|scan":
      if (args.code !== "8886008101053") throw { code: "not_found", message_key: "error.not_found", params: { id: args.code } };
      qty += 1;
      return cartView();
    case "plugin:selling|add_product": qty += Number(args.quantity); return cartView();
    case "plugin:payment|due": return { total: String(3500 * qty), cash_total: String(3500 * qty), quick_amounts: ["20000", "50000"], qris_payload: null };
    case "plugin:selling|set_cart_discount": cartDiscount = args.discount as { Percent: string }; return cartView();
    case "plugin:selling|users": return [];
    case "plugin:payment|pay":
      if (cartDiscount && !args.approval) throw { code: "supervisor_required", message_key: "error.supervisor_required", params: { reason: "a cart discount above 10%", kind: "cart_discount", threshold: "10" } };
      if (cartDiscount && (args.approval as { pin: string }).pin !== "9999") throw { code: "wrong_pin", message_key: "error.wrong_pin", params: { attempts_left: 2 } };
      qty = 0;
      cartDiscount = null; return { sale_id: "s1", receipt_no: "TU-T1-261202-0001", total: "14000", change: "6000", paid_ms: 0.5 };
    case "plugin:payment|qris_start":
      if (gateway === "none") throw { code: "no_gateway", message_key: "error.no_gateway", params: {} };
      return { payment_id: "pay-1", amount: args.amount, provider: "midtrans", status: "pending", qr_string: "00020101021226QRIS-DYNAMIC6304ABCD", expires_at: Date.now() + 299_000, reference: null, abandoned: false, sale_id: null };
    case "plugin:payment|qris_cancel":
      return { payment_id: args.paymentId, amount: "7000", provider: "midtrans", status: "cancelled", qr_string: "", expires_at: 0, reference: null, abandoned: true, sale_id: null };
    case "plugin:payment|late_payments": return late;
    case "plugin:payment|resolve_late": {
      const done = late.find((l) => l.payment_id === args.paymentId);
      late = late.filter((l) => l !== done);
      return done;
    }
    case "plugin:printing|receipt_preview": return "iVBORw0KGgo=";
    case "plugin:export|destinations": return [
      { path: "/media/kasir/FLASH DISK", label: "FLASH DISK", removable: true },
      { path: "/home/kasir/Documents", label: "/home/kasir/Documents", removable: false },
    ];
    case "plugin:export|run":
      if ((args.approval as { pin: string }).pin !== "9999") throw { code: "wrong_pin", message_key: "error.wrong_pin", params: { attempts_left: 4 } };
      return { path: `${String(args.dir)}/snapkasir-TU-T1-20261203T100000Z`, documents: 7, bytes: 1_572_864 };
  }
  throw { code: "internal", message_key: "error.internal", params: { detail: cmd } };
}

const $ = (id: string) => document.querySelector<HTMLElement>(`[data-testid="${id}"]`);
const $$ = (id: string) => [...document.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`)];

async function until<T>(f: () => T | null | undefined | false, what: string): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = f();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}; calls: ${calls.slice(-4).map((c) => c.cmd).join(", ")}; toast: ${$("toast")?.textContent}`);
}

/** Lets Preact render what the last event changed. */
const tick = () => new Promise((r) => setTimeout(r, 0));

function key(k: string, target: EventTarget = document.activeElement ?? window) {
  target.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true }));
}

/** A key as a browser does it: keydown, then the character lands in the focused field. */
function typeChar(c: string) {
  const el = document.activeElement as HTMLInputElement;
  const ev = new KeyboardEvent("keydown", { key: c, bubbles: true, cancelable: true });
  el.dispatchEvent(ev);
  if (!ev.defaultPrevented) {
    el.value += c;
    el.dispatchEvent(new Event("input", { bubbles: true }));
  }
}

beforeAll(async () => {
  document.body.innerHTML = '<div id="app"></div>';
  mockIPC((cmd, args) => shell(cmd, (args ?? {}) as Record<string, unknown>), { shouldMockEvents: true });
  await import("../src/main");
  await until(() => $("search-input"), "the selling screen");
});

afterAll(() => {
  document.body.innerHTML = "";
});

describe("cashier app against a mocked shell", () => {
  it("tells the shell it is ready and shows the sync state", async () => {
    await until(() => calls.some((c) => c.cmd === "plugin:session|ui_ready"), "ui_ready");
    expect(document.documentElement.lang).toBe("id");
    const bar = $("sync-bar")!;
    expect(bar.dataset.online).toBe("false");
    expect(bar.dataset.waiting).toBe("3");
  });

  it("follows sync://status and sales://changed events", async () => {
    await emit("sync://status", {
      server: { online: true, last_sync: new Date().toISOString(), waiting_documents: 0, waiting_sales: 0, clock_skew_ms: null, warnings: [{ kind: "queue_too_long", waiting_sales: 250 }], last_error: null },
      lan: null,
      enrolled: true,
    });
    await until(() => $("sync-bar")!.dataset.online === "true", "online");
    expect($("sync-bar")!.dataset.waiting).toBe("0");
    expect($("sync-warning")!.textContent).toContain("250 penjualan belum terkirim.");
    // The server refused this till's version: the cashier is told who must update, in words.
    await emit("sync://status", {
      server: { online: false, last_sync: null, waiting_documents: 1, waiting_sales: 2, clock_skew_ms: null, warnings: [{ kind: "update_required", outdated: "till" }], last_error: "this till's app is too old for the server" },
      lan: null,
      enrolled: true,
    });
    await until(() => $("sync-bar")!.dataset.online === "false", "offline");
    expect($("sync-warning")!.textContent).toContain("Perbarui SnapKasir di kasir ini");
    const before = calls.filter((c) => c.cmd === "plugin:selling|day_sales").length;
    await emit("sales://changed", null);
    await until(() => calls.filter((c) => c.cmd === "plugin:selling|day_sales").length === before + 1, "day_sales");
  });

  it("takes a scanner burst typed into the search box as a scan and takes it out of the box", async () => {
    const input = $("search-input") as HTMLInputElement;
    input.focus();
    for (const c of "8886008101053") typeChar(c);
    key("Enter");
    const line = await until(() => $("cart-line"), "a cart line");
    expect(input.value).toBe("");
    expect(calls.filter((c) => c.cmd === "plugin:selling|scan").map((c) => c.args)).toEqual([{ code: "8886008101053" }]);
    await new Promise((r) => setTimeout(r, 60));
    expect(calls.filter((c) => c.cmd === "plugin:selling|search")).toEqual([]);
    expect(line.querySelector('[data-testid="line-qty"]')!.textContent).toBe("1");
    expect($("cart-total")!.textContent).toBe("Rp 3.500");
    await until(() => window.__snapkasirPerf.scans.length === 1, "the scan timing");
    expect(window.__snapkasirPerf.scans[0]).toBeGreaterThanOrEqual(0);
    expect(window.__snapkasirPerf.ready_at).toBeGreaterThan(0);
  });

  it("scans the whole code when the page stalls in the middle of a burst", async () => {
    const input = $("search-input") as HTMLInputElement;
    input.focus();
    const before = calls.filter((c) => c.cmd === "plugin:selling|scan").length;
    for (const c of "8886008") typeChar(c);
    await new Promise((r) => setTimeout(r, 45)); // a stall: the rest looks like a new burst
    for (const c of "101053") typeChar(c);
    key("Enter");
    await until(() => $("line-qty")?.textContent === "2", "the quantity to become 2");
    expect(input.value).toBe("");
    expect(calls.filter((c) => c.cmd === "plugin:selling|scan").slice(before).map((c) => c.args)).toEqual([
      { code: "8886008101053" },
    ]);
    // The scan's timing is recorded after the frame that shows it (as in the test above):
    // wait for it, then check that the stalled burst made one scan, not two.
    await until(() => window.__snapkasirPerf.scans.length >= 2, "the scan timing");
    expect(window.__snapkasirPerf.scans).toHaveLength(2);
  });

  it("shows an unknown code in words, in a toast", async () => {
    (document.activeElement as HTMLElement | null)?.blur();
    for (const c of "99999999") key(c, window);
    key("Enter", window);
    const toast = await until(() => $("toast"), "the toast");
    expect(toast.textContent).toBe("Kode 99999999 tidak dikenal.");
  });

  it("Enter in the search box after typing picks the first hit", async () => {
    const input = $("search-input") as HTMLInputElement;
    input.focus();
    typeChar("a");
    typeChar("q");
    await until(() => $$("search-result").length === 1, "a search hit");
    key("Enter");
    await until(() => $("line-qty")?.textContent === "3", "the quantity to become 3");
    // No product has the code "aq": it is searched, and the first hit added.
    expect(calls.filter((c) => c.cmd === "plugin:selling|scan").at(-1)!.args).toEqual({ code: "aq" });
    expect(calls.find((c) => c.cmd === "plugin:selling|add_product")!.args).toEqual({ productId: "p1", variantId: null, quantity: "1" });
    expect(window.__snapkasirPerf.scans).toHaveLength(2);
  });

  it("Enter after a barcode typed by hand in the search box scans it", async () => {
    const input = $("search-input") as HTMLInputElement;
    input.focus();
    for (const c of "8886008101053") {
      typeChar(c);
      await new Promise((r) => setTimeout(r, 35)); // slower than a scanner
    }
    key("Enter");
    await until(() => $("line-qty")?.textContent === "4", "the quantity to become 4");
    expect(input.value).toBe("");
    expect(window.__snapkasirPerf.scans).toHaveLength(3);
  });

  it("pays in cash with Uang pas and shows the paid screen", async () => {
    key("F12", window);
    await until(() => $("uang-pas"), "the payment screen");
    await until(() => calls.some((c) => c.cmd === "plugin:payment|due"), "due");
    $("method-cash")!.click();
    await new Promise((r) => setTimeout(r, 20));
    $("quick-amount")!.click();
    await until(() => $("change-amount")?.textContent === "Rp 6.000", "the change");
    $("pay-confirm")!.click();
    const paid = await until(() => $("paid-screen"), "the paid screen");
    expect(calls.find((c) => c.cmd === "plugin:payment|pay")!.args).toEqual({
      tenders: [{ method: "Cash", amount: "20000", reference: null }],
      approval: null,
      gatewayPayment: null,
    });
    expect(paid.querySelector('[data-testid="change-amount"]')!.textContent).toBe("Rp 6.000");
    expect(paid.textContent).toContain("Nota TU-T1-261202-0001");
    await until(() => $("receipt-preview"), "the receipt preview");
    await until(() => window.__snapkasirPerf.pays.length === 1, "the pay timing");
    key("Enter", window);
    await until(() => $("search-input"), "the selling screen again");
  });

  it("shows why a supervisor is needed and asks the PIN at payment, again after a wrong PIN", async () => {
    const input = $("search-input") as HTMLInputElement;
    input.focus();
    for (const c of "8886008101053") typeChar(c);
    key("Enter");
    await until(() => $("cart-line"), "a cart line");
    $("cart-discount-button")!.click();
    const field = (await until(() => $("discount-input"), "the discount dialog")) as HTMLInputElement;
    field.value = "15%";
    field.dispatchEvent(new Event("input", { bubbles: true }));
    await tick();
    $("discount-apply")!.click();
    await until(() => $("supervisor-needed"), "the supervisor banner");
    expect($("supervisor-needed")!.textContent).toBe("Perlu PIN supervisor: diskon nota di atas 10%");
    expect($("discount-input")).toBeNull();
    expect($("supervisor-dialog")).toBeNull();
    expect(calls.find((c) => c.cmd === "plugin:selling|set_cart_discount")!.args).toEqual({ discount: { Percent: "15" } });

    $("pay-button")!.click();
    await until(() => $("uang-pas"), "the payment screen");
    await until(() => calls.filter((c) => c.cmd === "plugin:payment|due").length === 2, "due");
    $("pay-confirm")!.click();
    await until(() => $("supervisor-dialog"), "the supervisor dialog");
    expect(($("supervisor-user") as HTMLSelectElement).value).toBe("u2");
    for (const pin of ["1234", "9999"]) {
      const field = $("supervisor-pin") as HTMLInputElement;
      field.value = pin;
      field.dispatchEvent(new Event("input", { bubbles: true }));
      await tick();
      $("supervisor-ok")!.click();
      if (pin === "1234") {
        await until(() => $("toast")?.textContent === "PIN salah. Sisa 2 percobaan.", "the wrong PIN message");
        expect($("supervisor-dialog")).not.toBeNull();
      }
    }
    await until(() => $("paid-screen"), "the paid screen");
    const pays = calls.filter((c) => c.cmd === "plugin:payment|pay").map((c) => c.args.approval);
    expect(pays.slice(-2)).toEqual([{ userId: "u2", pin: "1234" }, { userId: "u2", pin: "9999" }]);
    $("new-sale")!.click();
    await until(() => $("search-input"), "the selling screen");
  });

  it("exports the store to the plugged-in drive once a supervisor approves", async () => {
    $("help-button")!.click();
    (await until(() => $("export-open"), "the help dialog's export button")).click();
    const dir = (await until(() => $("export-dir"), "the export dialog")) as HTMLInputElement;
    // The drive that is plugged in comes first and is chosen.
    await until(() => dir.value === "/media/kasir/FLASH DISK", "the drive chosen");
    expect($$("export-target").map((b) => b.textContent)).toEqual(["Flashdisk FLASH DISK", "/home/kasir/Documents"]);
    for (const pin of ["1234", "9999"]) {
      const field = $("supervisor-pin") as HTMLInputElement;
      field.value = pin;
      field.dispatchEvent(new Event("input", { bubbles: true }));
      await tick();
      $("export-submit")!.click();
      if (pin === "1234") {
        await until(() => $("toast")?.textContent === "PIN salah. Sisa 4 percobaan.", "the wrong PIN message");
        expect($("export-done")).toBeNull();
      }
    }
    const done = await until(() => $("export-done"), "the export's result");
    expect(done.textContent).toBe("Ekspor selesai: 7 dokumen, 1,5 MB.");
    expect($("export-path")!.textContent).toBe("/media/kasir/FLASH DISK/snapkasir-TU-T1-20261203T100000Z");
    expect($("toast")).toBeNull();
    const runs = calls.filter((c) => c.cmd === "plugin:export|run").map((c) => c.args);
    expect(runs.at(-1)).toEqual({ dir: "/media/kasir/FLASH DISK", approval: { userId: "u2", pin: "9999" } });
    $("export-close")!.click();
    await until(() => !$("export-dialog"), "the dialog closed");
  });

  it("pays by dynamic QRIS: the code for the amount with its countdown, paid when the shell says so", { timeout: 20_000 }, async () => {
    const input = $("search-input") as HTMLInputElement;
    input.focus();
    for (const c of "8886008101053") typeChar(c);
    key("Enter");
    await until(() => $("cart-line"), "a cart line");
    key("F12", window);
    await until(() => $("method-qris"), "the payment screen");
    $("method-qris")!.click();
    const make = await until(() => $("qris-start"), "the make-a-code button");
    expect(make.textContent).toContain("Rp 3.500");
    expect($("pay-confirm")).toBeNull();
    make.click();
    const img = await until(() => $("qris-dynamic-image"), "the dynamic code");
    expect(img.dataset.payload).toBe("00020101021226QRIS-DYNAMIC6304ABCD");
    expect(calls.find((c) => c.cmd === "plugin:payment|qris_start")!.args).toEqual({ amount: "3500" });
    expect($("qris-amount")!.textContent).toBe("Rp 3.500");
    expect($("qris-countdown")!.textContent).toMatch(/berlaku 4:5\d/);
    const before = calls.filter((c) => c.cmd === "plugin:payment|pay").length;
    await emit("payment://qris", { payment_id: "pay-other", amount: "3500", provider: "midtrans", status: "paid", qr_string: "", expires_at: 0, reference: "x", abandoned: false, sale_id: null });
    await tick();
    expect($("paid-screen")).toBeNull();
    await emit("payment://qris", { payment_id: "pay-1", amount: "3500", provider: "midtrans", status: "paid", qr_string: "", expires_at: 0, reference: "tx-1", abandoned: false, sale_id: null });
    await until(() => $("paid-screen"), "the paid screen");
    const pays = calls.filter((c) => c.cmd === "plugin:payment|pay");
    expect(pays.length).toBe(before + 1);
    expect(pays.at(-1)!.args).toEqual({ tenders: [], approval: null, gatewayPayment: "pay-1" });
    await until(() => $("receipt-preview"), "the receipt preview");
    key("Enter", window);
    await until(() => $("search-input"), "the selling screen again");
  });

  it("shows an expired code in words and falls back to the static QRIS without a gateway", { timeout: 20_000 }, async () => {
    const input = $("search-input") as HTMLInputElement;
    input.focus();
    for (const c of "8886008101053") typeChar(c);
    key("Enter");
    await until(() => $("cart-line"), "a cart line");
    (await until(() => $("pay-button"), "the pay button")).click();
    await until(() => $("method-qris"), "the payment screen");
    $("method-qris")!.click();
    (await until(() => $("qris-start"), "the make-a-code button")).click();
    await until(() => $("qris-dynamic-image"), "the dynamic code");
    await emit("payment://qris", { payment_id: "pay-1", amount: "3500", provider: "midtrans", status: "expired", qr_string: "", expires_at: 0, reference: null, abandoned: false, sale_id: null });
    const ended = await until(() => $("qris-ended"), "the expired code");
    expect(ended.textContent).toContain("kedaluwarsa");
    gateway = "none";
    $("qris-start")!.click();
    const why = await until(() => $("qris-static-why"), "the static QRIS");
    expect(why.textContent).toContain("QRIS statis");
    expect($("pay-confirm")).not.toBeNull();
    expect($("tender-reference")).not.toBeNull();
    gateway = "yes";
    key("Escape", window);
    await until(() => $("search-input"), "the selling screen again");
  });

  it("lists a QRIS payment that arrived after it was cancelled until it is refunded", { timeout: 20_000 }, async () => {
    late = [{ payment_id: "pay-late", amount: "27500", provider: "xendit", status: "paid", qr_string: "", expires_at: 0, reference: "qrpy_8c1e", abandoned: true, sale_id: null }];
    await emit("sync://status", { server: { online: true, last_sync: null, waiting_documents: 0, waiting_sales: 0, clock_skew_ms: null, warnings: [], last_error: null }, lan: null, enrolled: true });
    const banner = await until(() => $("late-payments"), "the late payment");
    expect(banner.textContent).toContain("Rp 27.500");
    expect(banner.textContent).toContain("qrpy_8c1e");
    $("late-refund")!.click();
    await until(() => !$("late-payments"), "the late payment settled");
    expect(calls.find((c) => c.cmd === "plugin:payment|resolve_late")!.args).toEqual({ paymentId: "pay-late", action: "refund" });
  });

  it("switches the language at once and tells the shell", async () => {
    $("language-toggle")!.click();
    await until(() => document.documentElement.lang === "en", "lang=en");
    expect($("pay-button")!.textContent).toContain("Pay");
    expect(calls.find((c) => c.cmd === "plugin:session|set_language")!.args).toEqual({ language: "en" });
  });
});
