import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { en, id } from "../src/i18n/dict";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : /\.tsx?$/.test(f) ? [p] : [];
  });
}

const src = join(__dirname, "..", "src");
const code = sources(src)
  .filter((p) => !p.includes(join("src", "dev")) && !p.endsWith("dict.ts"))
  .map((p) => readFileSync(p, "utf8"))
  .join("\n");

describe("translations", () => {
  it("have the same keys in Indonesian and English, none empty", () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(id).sort());
    for (const [k, v] of [...Object.entries(id), ...Object.entries(en)]) {
      expect(v.trim(), k).not.toBe("");
    }
  });

  it("have the same placeholders in both languages", () => {
    const ph = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const k of Object.keys(id) as (keyof typeof id)[]) {
      expect(ph(en[k]), k).toEqual(ph(id[k]));
    }
  });

  it("have every key the source uses", () => {
    // Literal keys: t("a.b"), and keys written as string literals in typed key lists.
    const used = new Set<string>();
    for (const m of code.matchAll(/\bt\(\s*"([\w.]+)"/g)) used.add(m[1]);
    for (const m of code.matchAll(/key: "([\w.]+)"/g)) used.add(m[1]);
    for (const m of code.matchAll(/^\s*"((?:help|pay|sell)\.[\w.]+)",$/gm)) used.add(m[1]);
    expect(used.size).toBeGreaterThan(50);
    const missing = [...used].filter((k) => !(k in id));
    expect(missing).toEqual([]);
  });

  it("have a message for every error code the shell and pos-core send", () => {
    const codes = [
      "not_logged_in", "no_store", "invalid_input", "enrolment_failed", "internal",
      "invalid_data", "database", "file", "document_format", "document", "corrupt_record",
      "migration_failed", "schema_too_new", "sync", "not_initialized", "already_initialized",
      "not_found", "duplicate", "unknown_barcode", "inactive_product", "no_open_shift",
      "shift_already_open", "supervisor_required", "wrong_pin", "user_locked", "not_authorized",
      "inactive_user", "already_voided", "voided_sale", "void_outside_shift",
      "cart_already_claimed", "sequence_exhausted", "csv", "printer", "print_job_state",
      "server_unreachable", "enrolment_code_invalid", "enrolment_rate_limited", "tls",
      "till_too_old", "server_too_old",
    ];
    for (const c of codes) expect(id, c).toHaveProperty([`error.${c}`]);
  });

  it("have a word for each data-named key (roles, print states, methods)", () => {
    for (const r of ["Cashier", "Supervisor", "Manager"]) expect(id).toHaveProperty([`role.${r}`]);
    for (const s of ["Waiting", "Retrying", "Held", "Printing", "Printed", "Failed", "Cancelled"]) {
      expect(id).toHaveProperty([`print.state.${s}`]);
    }
    for (const m of ["cash", "qris", "card", "ewallet"]) expect(id).toHaveProperty([`method.${m}`]);
  });

  it("leave no key in the dictionary unused", () => {
    const dynamic = /^(error|role|print\.state|method|sync\.warn)\./;
    const unused = Object.keys(id).filter((k) => !dynamic.test(k) && !code.includes(`"${k}"`));
    expect(unused).toEqual([]);
  });
});
