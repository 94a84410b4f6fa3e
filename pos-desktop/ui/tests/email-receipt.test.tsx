// The receipt by email in the digital receipt dialog, against a mocked shell: a mistyped
// address is refused in words before anything is queued; a queued send shows "waiting for a
// connection" and then "sent" once the till's queue has handed it over; a refusal shows the
// server's reason; in both languages.
import { mockIPC } from "@tauri-apps/api/mocks";
import { render } from "preact";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReceiptSend } from "../src/api/types";
import { lang } from "../src/i18n";
import { EmailReceipt, sendText } from "../src/screens/EmailReceipt";
import { emailAddress } from "../src/receipt-link";

const calls: { cmd: string; args: Record<string, unknown> }[] = [];
let sends: ReceiptSend[] = [];

function shell(cmd: string, args: Record<string, unknown>): unknown {
  calls.push({ cmd, args });
  switch (cmd) {
    case "plugin:printing|receipt_sends": return sends;
    case "plugin:printing|email_receipt":
      sends = [...sends, { send_id: "m1", sale_id: String(args.saleId), email: String(args.email), lang: "id", state: "waiting", created_at: 1, sent_at: null, attempts: 0, last_error: null }];
      return sends;
  }
  throw { code: "internal", message_key: "error.internal", params: { detail: cmd } };
}

const $ = (id: string) => document.querySelector<HTMLElement>(`[data-testid="${id}"]`);

async function until<T>(f: () => T | null | undefined | false, what: string, ms = 4000): Promise<T> {
  for (let i = 0; i < ms / 10; i++) {
    const v = f();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function type(el: HTMLInputElement, text: string) {
  el.value = text;
  el.dispatchEvent(new Event("input", { bubbles: true }));
}

function submit() {
  $("email-send")!.closest("form")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
}

beforeAll(() => {
  mockIPC((cmd, args) => shell(cmd, (args ?? {}) as Record<string, unknown>));
  document.body.innerHTML = '<div id="root"></div>';
  lang.value = "id";
  render(<EmailReceipt saleId="s1" />, document.getElementById("root")!);
});

afterAll(() => {
  render(null, document.getElementById("root")!);
  document.body.innerHTML = "";
});

describe("email receipt", () => {
  it("knows an address when it sees one", () => {
    expect(emailAddress(" budi@contoh.co.id ")).toBe("budi@contoh.co.id");
    for (const bad of ["", "budi", "budi@", "@contoh.com", "budi@localhost", "bu di@contoh.com"]) {
      expect(emailAddress(bad), bad).toBeNull();
    }
  });

  it("refuses a mistyped address in words and queues nothing", async () => {
    await until(() => calls.some((c) => c.cmd === "plugin:printing|receipt_sends"), "the sends");
    type($("email-address") as HTMLInputElement, "budi@contoh");
    await new Promise((r) => setTimeout(r, 0));
    submit();
    const warn = await until(() => $("email-invalid"), "the refusal");
    expect(warn.textContent).toBe("Alamat email tidak valid. Contoh: nama@contoh.com.");
    expect(calls.some((c) => c.cmd === "plugin:printing|email_receipt")).toBe(false);
  });

  it("queues a send, says it waits for a connection, then that it was sent", async () => {
    type($("email-address") as HTMLInputElement, " budi@contoh.com ");
    await new Promise((r) => setTimeout(r, 0));
    submit();
    const state = await until(() => $("email-send-state"), "the send's state");
    expect(calls.find((c) => c.cmd === "plugin:printing|email_receipt")!.args).toEqual({ saleId: "s1", email: "budi@contoh.com" });
    expect(state.dataset.state).toBe("waiting");
    expect(state.textContent).toBe("Menunggu koneksi — dikirim otomatis (budi@contoh.com)");
    expect(($("email-address") as HTMLInputElement).value).toBe("");
    // The till's queue hands it over; the dialog looks again while a send waits.
    sends = sends.map((s) => ({ ...s, state: "sent", sent_at: 2, attempts: 1 }));
    await until(() => $("email-send-state")?.dataset.state === "sent", "sent", 5000);
    expect($("email-send-state")!.textContent).toBe("Dikirim ke budi@contoh.com");
  }, 8000);

  it("says why a send failed, and that a forgotten address is gone, in English too", () => {
    const failed: ReceiptSend = { send_id: "m2", sale_id: "s1", email: "x@contoh.com", lang: "en", state: "failed", created_at: 1, sent_at: null, attempts: 1, last_error: "no such mailbox" };
    expect(sendText(failed)).toBe("Gagal dikirim ke x@contoh.com: no such mailbox");
    lang.value = "en";
    expect(sendText(failed)).toBe("Could not be sent to x@contoh.com: no such mailbox");
    expect(sendText({ ...failed, state: "sent", email: null })).toBe("Sent to (address deleted)");
    lang.value = "id";
  });
});
