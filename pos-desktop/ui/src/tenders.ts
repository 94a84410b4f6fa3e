//! What the payment screen shows while the cashier enters tenders: what is left, the cash due
//! after the store's cash rounding, the change. The same rules as shared-model's `settle`:
//! non-cash tenders are applied first and never exceed what is due; the rest is cash, rounded
//! to the store's unit, and change is given on the cash only. The shell settles for real; this
//! only keeps the screen honest while typing.

import { roundToUnit, type Dec } from "./money";

export interface TenderAmount {
  cash: boolean;
  amount: Dec;
}

export interface TenderSummary {
  /** Still due after the non-cash tenders (what a further non-cash tender may cover at most). */
  remaining: Dec;
  /** Cash handed over so far. */
  cash: Dec;
  /** The remaining rounded to the cash unit: what the cash must cover. */
  cashDue: Dec;
  /** What is still to collect: in cash (rounded) ... */
  outstandingCash: Dec;
  /** ... or with a non-cash method. */
  outstandingNonCash: Dec;
  /** A non-cash tender is more than was due when it was applied. */
  nonCashOver: boolean;
  complete: boolean;
  change: Dec;
}

const max0 = (v: Dec): Dec => (v > 0n ? v : 0n);

/** `cashTotal`: the shell's cash due for the whole total (`due().cash_total`), used while no
 * non-cash tender has been applied, so the screen agrees with the shell to the rupiah. */
export function summarize(
  total: Dec,
  tenders: TenderAmount[],
  cashUnit: Dec,
  cashTotal?: Dec,
): TenderSummary {
  let remaining = total;
  let cash = 0n;
  let nonCashOver = false;
  for (const t of tenders) {
    if (t.cash) {
      cash += t.amount;
    } else {
      if (t.amount > remaining) nonCashOver = true;
      remaining = max0(remaining - t.amount);
    }
  }
  const cashDue =
    cashTotal !== undefined && remaining === total ? cashTotal : roundToUnit(remaining, cashUnit);
  const complete = !nonCashOver && (cash > 0n ? cash >= cashDue : remaining === 0n);
  return {
    remaining,
    cash,
    cashDue,
    outstandingCash: max0(cashDue - cash),
    outstandingNonCash: max0(remaining - cash),
    nonCashOver,
    complete,
    change: complete && cash > 0n ? cash - cashDue : 0n,
  };
}

const NOTES: Dec[] = [2000n, 5000n, 10000n, 20000n, 50000n, 100000n].map((n) => n * 10000n);

/** Amounts a customer is likely to hand over for `due`: the next round sums of common notes
 * above it (e.g. 23.400 → 25.000, 30.000, 50.000, 100.000), at most `count`. */
export function quickAmounts(due: Dec, count = 4): Dec[] {
  const out: Dec[] = [];
  if (due <= 0n) return out;
  for (const note of NOTES) {
    const v = ((due + note - 1n) / note) * note;
    if (v > due && !out.includes(v)) out.push(v);
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, count);
}
