// First run to the selling screen against a mocked shell: the demo store, its PINs, a wrong
// PIN, the PIN pad and keyboard digits, the opening float, auto-lock.
import { mockIPC } from "@tauri-apps/api/mocks";
import { beforeAll, describe, expect, it } from "vitest";
import type { AppStatus } from "../src/api/types";

const calls: { cmd: string; args: Record<string, unknown> }[] = [];
const status: AppStatus = {
  ready: false, store_name: null, store_code: null, terminal_code: null, language: "id",
  user: null, shift_open: false, demo: null, auto_lock_secs: 600, time_zone: "Asia/Jakarta",
};
const users = [
  { id: "u1", name: "Sari", role: "Cashier" },
  { id: "u2", name: "Budi", role: "Supervisor" },
];

/** Like the real shell, every answer is a new object. */
function shell(cmd: string, args: Record<string, unknown>): unknown {
  return structuredClone(answer(cmd, args));
}

function answer(cmd: string, args: Record<string, unknown>): unknown {
  calls.push({ cmd, args });
  switch (cmd) {
    case "plugin:session|status": return status;
    case "plugin:session|ui_ready": return null;
    case "plugin:sync|status": return { server: null, lan: null, enrolled: false };
    case "plugin:enrolment|enrol":
      throw { code: "enrolment_failed", message_key: "error.enrolment_failed", params: { reason: "enrolment_code_invalid" } };
    case "plugin:enrolment|start_demo":
      Object.assign(status, {
        ready: true, store_name: "Toko Demo", store_code: "DEMO", terminal_code: "T1",
        demo: { cashier_name: "Sari", cashier_pin: "1111", supervisor_name: "Budi", supervisor_pin: "9999" },
      });
      return status;
    case "plugin:session|users": return users;
    case "plugin:settings|store": return { currency_code: "IDR", currency_minor_units: 0, price_mode: "Inclusive", cash_rounding_unit: "100", offline_warning_hours: 24 };
    case "plugin:session|login":
      if (args.pin !== "1111") throw { code: "wrong_pin", message_key: "error.wrong_pin", params: { attempts_left: 4 } };
      status.user = users[0];
      return status;
    case "plugin:session|start_shift":
      // From here the till locks after one idle second (the last test waits for it).
      status.shift_open = true;
      status.auto_lock_secs = 1;
      return status;
    case "plugin:session|lock": status.user = null; return status;
    case "plugin:selling|cart": return { cart: { id: "c1", lines: [], discount: null, note: null }, priced: null, supervisor_reason: null, promotions: [], warning: null };
    case "plugin:selling|categories": return [{ id: "c-drink", name: "Minuman", parent: null }];
    case "plugin:selling|day_sales": return [];
  }
  throw { code: "internal", message_key: "error.internal", params: { detail: cmd } };
}

const $ = (id: string) => document.querySelector<HTMLElement>(`[data-testid="${id}"]`);
const tick = () => new Promise((r) => setTimeout(r, 0));
async function until<T>(f: () => T | null | undefined | false, what: string, ms = 5000): Promise<T> {
  for (let i = 0; i < ms / 10; i++) {
    const v = f();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}; toast: ${$("toast")?.textContent}`);
}
async function fill(id: string, value: string) {
  const el = $(id) as HTMLInputElement;
  el.value = value;
  el.dispatchEvent(new Event("input", { bubbles: true }));
  await tick();
}

beforeAll(async () => {
  document.body.innerHTML = '<div id="app"></div>';
  mockIPC((cmd, args) => shell(cmd, (args ?? {}) as Record<string, unknown>), { shouldMockEvents: true });
  await import("../src/main");
  await until(() => $("demo-button"), "the first-run screen");
});

describe("first run to selling", () => {
  it("shows an enrolment refusal in words", async () => {
    expect($("sync-bar")!.textContent).toContain("Belum terhubung ke server toko");
    $("enrol-button")!.click();
    expect(document.activeElement).toBe($("server-url"));
    await fill("server-url", "https://toko.example");
    await fill("enrol-code", "ABCD-1234");
    $("enrol-submit")!.click();
    await until(() => $("toast"), "the toast");
    expect($("toast")!.textContent).toBe("Pendaftaran gagal: kode pendaftaran salah atau sudah dipakai");
    expect(calls.find((c) => c.cmd === "plugin:enrolment|enrol")!.args).toEqual({ serverUrl: "https://toko.example", code: "ABCD-1234" });
  });

  it("fills the server and the code from a scanned enrolment link", async () => {
    await fill("server-url", "");
    await fill("enrol-code", "snapkasir://enrol?server=http%3A%2F%2F10.0.0.5%3A8080%2F&code=K7QM-2XWP-9HDA");
    expect(($("server-url") as HTMLInputElement).value).toBe("http://10.0.0.5:8080");
    expect(($("enrol-code") as HTMLInputElement).value).toBe("K7QM-2XWP-9HDA");
    $("enrol-submit")!.click();
    await until(() => calls.filter((c) => c.cmd === "plugin:enrolment|enrol").length === 2, "the second enrolment");
    expect(calls.filter((c) => c.cmd === "plugin:enrolment|enrol")[1]!.args).toEqual({ serverUrl: "http://10.0.0.5:8080", code: "K7QM-2XWP-9HDA" });
  });

  it("refuses a damaged enrolment link in words", async () => {
    await fill("enrol-code", "snapkasir://enrol?server=ftp%3A%2F%2Fx&code=AB12");
    $("enrol-submit")!.click();
    await until(() => $("toast")?.textContent?.startsWith("Tautan pendaftaran"), "the bad link message");
    expect(calls.filter((c) => c.cmd === "plugin:enrolment|enrol").length).toBe(2);
    await fill("enrol-code", "");
  });

  it("starts the demo store and shows its PINs", async () => {
    $("demo-button")!.click();
    const pins = await until(() => $("demo-pins"), "the demo PINs");
    expect(pins.textContent).toContain("1111");
    expect(pins.textContent).toContain("9999");
    expect($("user-Sari")).not.toBeNull();
    expect($("user-Budi")).not.toBeNull();
  });

  it("logs in with the PIN pad after a wrong PIN typed on the keyboard", async () => {
    $("user-Sari")!.click();
    await tick();
    for (const d of "12") window.dispatchEvent(new KeyboardEvent("keydown", { key: d }));
    await tick();
    expect($("pin-display")!.textContent).toBe("••");
    window.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    await until(() => $("toast")?.textContent === "PIN salah. Sisa 4 percobaan.", "the wrong PIN message");
    await until(() => $("pin-display")!.textContent!.trim() === "", "the pad to clear");
    for (const d of "1111") $(`pin-key-${d}`)!.click();
    await tick();
    $("pin-enter")!.click();
    await until(() => $("opening-float"), "the opening float");
    expect(calls.filter((c) => c.cmd === "plugin:session|login").map((c) => c.args)).toEqual([
      { userId: "u1", pin: "12" },
      { userId: "u1", pin: "1111" },
    ]);
  });

  it("opens the shift with the float as typed", async () => {
    await fill("opening-float", "200.000");
    $("start-shift")!.click();
    await until(() => $("search-input"), "the selling screen");
    expect(calls.find((c) => c.cmd === "plugin:session|start_shift")!.args).toEqual({ openingFloat: "200000" });
    expect((await until(() => $("category-c-drink"), "the categories")).textContent).toBe("Minuman");
  });

  it("locks itself after auto_lock_secs without input", async () => {
    await until(() => $("user-Sari"), "the PIN screen after auto-lock", 3000);
    expect(calls.some((c) => c.cmd === "plugin:session|lock")).toBe(true);
  });
});
