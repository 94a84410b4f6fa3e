//! Money and quantities as the shell sends them: decimal strings. The UI never uses floats for
//! amounts: a value is a bigint of ten-thousandths (money has at most 4 minor units, weights 3),
//! enough for the few sums the payment screen does (split remaining, change). Formatting is
//! written here rather than with Intl.NumberFormat because the screen must show `Rp 12.500`
//! in both languages, exactly as shared-model's `Currency::format` prints receipts.

const SCALE = 4;
const FACTOR = 10n ** BigInt(SCALE);

/** A decimal as bigint ten-thousandths. */
export type Dec = bigint;

/** Parses "12500", "-1.25", "0.735"; also what a person types: "12.500" (dots as thousands
 * separators in IDR) is not accepted here, see `parseTyped`. Returns null when not a number. */
export function dec(s: string | null | undefined): Dec | null {
  if (s == null) return null;
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/.exec(s);
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) return null;
  const frac = (m[3] ?? "").padEnd(SCALE + 1, "0");
  let v = BigInt(m[2] || "0") * FACTOR + BigInt(frac.slice(0, SCALE));
  if (frac.charCodeAt(SCALE) >= 53 /* '5': round half away from zero */) v += 1n;
  return m[1] === "-" ? -v : v;
}

/** The decimal string the shell accepts: "12500", "0.735". */
export function decStr(v: Dec): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const whole = a / FACTOR;
  let frac = (a % FACTOR).toString().padStart(SCALE, "0").replace(/0+$/, "");
  return `${neg ? "-" : ""}${whole}${frac ? "." + frac : ""}`;
}

export function decOf(s: string): Dec {
  return dec(s) ?? 0n;
}

/** Rounds half away from zero to `dp` decimals. */
export function roundDp(v: Dec, dp: number): Dec {
  const step = 10n ** BigInt(SCALE - dp);
  const neg = v < 0n;
  const a = neg ? -v : v;
  const r = ((a + step / 2n) / step) * step;
  return neg ? -r : r;
}

/** Rounds to the nearest multiple of `unit`, halves up (shared-model `round_to_unit`). */
export function roundToUnit(v: Dec, unit: Dec): Dec {
  if (unit <= 0n) return v;
  const neg = v < 0n;
  const a = neg ? -v : v;
  const r = ((a * 2n + unit) / (2n * unit)) * unit;
  return neg ? -r : r;
}

export interface CurrencyFmt {
  code: string;
  minor_units: number;
}

export const IDR: CurrencyFmt = { code: "IDR", minor_units: 0 };

function group(whole: string, sep: string): string {
  let out = "";
  for (let i = 0; i < whole.length; i++) {
    if (i > 0 && (whole.length - i) % 3 === 0) out += sep;
    out += whole[i];
  }
  return out;
}

/** `Rp 12.500` (IDR, both languages), `-Rp 500`, `USD 3.50`. */
export function formatMoney(amount: string | Dec, cur: CurrencyFmt = IDR): string {
  const v = typeof amount === "bigint" ? amount : decOf(amount);
  const r = roundDp(v, cur.minor_units);
  const neg = r < 0n;
  const a = neg ? -r : r;
  const idr = cur.code === "IDR";
  let s = group((a / FACTOR).toString(), idr ? "." : ",");
  if (cur.minor_units > 0) {
    const frac = (a % FACTOR).toString().padStart(SCALE, "0").slice(0, cur.minor_units);
    s += (idr ? "," : ".") + frac;
  }
  return `${neg ? "-" : ""}${idr ? "Rp" : cur.code} ${s}`;
}

/** A quantity for a cart line: "3", "0,735 kg" (Indonesian decimal comma in `id`). */
export function formatQty(q: string, unitSymbol: string, lang: "id" | "en"): string {
  const s = decStr(decOf(q));
  const shown = lang === "id" ? s.replace(".", ",") : s;
  return unitSymbol ? `${shown} ${unitSymbol}` : shown;
}

/** What a cashier types as an amount: "50000", "50.000" or "50,000" (thousands separators are
 * dropped for a currency without minor units), "Rp 50.000". Null when not an amount. */
export function parseTypedAmount(text: string, cur: CurrencyFmt = IDR): Dec | null {
  let s = text.replace(/rp/i, "").replace(/\s/g, "");
  if (s === "") return null;
  if (cur.minor_units === 0) {
    if (!/^\d{1,3}([.,]\d{3})*$|^\d+$/.test(s)) return null;
    s = s.replace(/[.,]/g, "");
  } else {
    s = s.replace(/,/g, "");
  }
  const v = dec(s);
  return v === null || v < 0n ? null : v;
}

/** A typed weight or quantity: "0,735" or "0.735". */
export function parseTypedQuantity(text: string): Dec | null {
  const v = dec(text.trim().replace(",", "."));
  return v === null || v <= 0n ? null : v;
}
