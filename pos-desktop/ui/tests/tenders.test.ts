import { describe, expect, it } from "vitest";
import { dec, decStr } from "../src/money";
import { quickAmounts, summarize } from "../src/tenders";

const D = (s: string) => dec(s)!;
const cash = (s: string) => ({ cash: true, amount: D(s) });
const card = (s: string) => ({ cash: false, amount: D(s) });
const show = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === "bigint" ? decStr(v) : v]));

describe("split payment summary", () => {
  it("rounds the cash to Rp100 and gives change on cash only", () => {
    const s = summarize(D("12450"), [cash("20000")], D("100"));
    expect(show({ ...s })).toMatchObject({ cashDue: "12500", change: "7500", complete: true, outstandingCash: "0" });
  });

  it("shows what is left after a card payment, in cash and non-cash", () => {
    const s = summarize(D("10050"), [card("5000")], D("100"));
    expect(show({ ...s })).toMatchObject({
      remaining: "5050",
      cashDue: "5100",
      outstandingCash: "5100",
      outstandingNonCash: "5050",
      complete: false,
      change: "0",
    });
  });

  it("is complete when non-cash covers the total exactly, with no rounding", () => {
    const s = summarize(D("10050"), [card("5000"), card("5050")], D("100"));
    expect(s.complete).toBe(true);
    expect(s.change).toBe(0n);
  });

  it("flags a non-cash tender above what is due", () => {
    expect(summarize(D("10000"), [card("12000")], D("100")).nonCashOver).toBe(true);
    expect(summarize(D("10000"), [card("12000")], D("100")).complete).toBe(false);
  });

  it("is short when the cash does not cover the rounded rest", () => {
    const s = summarize(D("23400"), [card("3400"), cash("19000")], D("100"));
    expect(show({ ...s })).toMatchObject({ complete: false, outstandingCash: "1000" });
  });

  it("without a cash unit, cash is not rounded", () => {
    expect(decStr(summarize(D("12450"), [cash("12450")], 0n).change)).toBe("0");
    expect(summarize(D("12450"), [cash("12450")], 0n).complete).toBe(true);
  });
});

describe("the shell's cash total", () => {
  it("is the cash due while nothing non-cash is applied, whatever the unit here", () => {
    const s = summarize(D("12450"), [cash("20000")], 0n, D("12500"));
    expect(show({ ...s })).toMatchObject({ cashDue: "12500", change: "7500" });
    const split = summarize(D("12450"), [card("2450"), cash("10000")], D("100"), D("12500"));
    expect(show({ ...split })).toMatchObject({ cashDue: "10000", change: "0", complete: true });
  });
});

describe("quick amounts", () => {
  it("offers the next round amounts above the due", () => {
    expect(quickAmounts(D("23400")).map(decStr)).toEqual(["24000", "25000", "30000", "40000"]);
    expect(quickAmounts(D("50000")).map(decStr)).toEqual(["60000", "100000"]);
    expect(quickAmounts(0n)).toEqual([]);
  });
});
