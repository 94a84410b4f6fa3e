import { describe, expect, it } from "vitest";
import {
  dec,
  decStr,
  formatMoney,
  formatQty,
  parseTypedAmount,
  parseTypedQuantity,
  roundToUnit,
} from "../src/money";

describe("money display", () => {
  it("shows IDR as Rp with dots, in both languages", () => {
    expect(formatMoney("12500")).toBe("Rp 12.500");
    expect(formatMoney("0")).toBe("Rp 0");
    expect(formatMoney("999")).toBe("Rp 999");
    expect(formatMoney("1000")).toBe("Rp 1.000");
    expect(formatMoney("1234567")).toBe("Rp 1.234.567");
    expect(formatMoney("-500")).toBe("-Rp 500");
  });

  it("rounds fractions half away from zero like shared-model", () => {
    expect(formatMoney("12499.5")).toBe("Rp 12.500");
    expect(formatMoney("12499.49")).toBe("Rp 12.499");
    expect(formatMoney("-0.4")).toBe("Rp 0");
  });

  it("shows other currencies with their minor units", () => {
    expect(formatMoney("3.5", { code: "USD", minor_units: 2 })).toBe("USD 3.50");
    expect(formatMoney("1234.5", { code: "USD", minor_units: 2 })).toBe("USD 1,234.50");
  });

  it("parses and prints decimal strings without floats", () => {
    expect(decStr(dec("0.735")!)).toBe("0.735");
    expect(decStr(dec("12500.00")!)).toBe("12500");
    expect(decStr(dec("0.1")! + dec("0.2")!)).toBe("0.3");
    expect(dec("abc")).toBeNull();
    expect(dec("")).toBeNull();
  });

  it("accepts amounts as a cashier types them", () => {
    expect(decStr(parseTypedAmount("50000")!)).toBe("50000");
    expect(decStr(parseTypedAmount("50.000")!)).toBe("50000");
    expect(decStr(parseTypedAmount("Rp 1.250.000")!)).toBe("1250000");
    expect(parseTypedAmount("12.5")).toBeNull();
    expect(parseTypedAmount("")).toBeNull();
    expect(parseTypedAmount("-5")).toBeNull();
  });

  it("accepts weights with a comma or a dot", () => {
    expect(decStr(parseTypedQuantity("0,735")!)).toBe("0.735");
    expect(decStr(parseTypedQuantity("1.5")!)).toBe("1.5");
    expect(parseTypedQuantity("0")).toBeNull();
    expect(formatQty("0.735", "kg", "id")).toBe("0,735 kg");
    expect(formatQty("0.735", "kg", "en")).toBe("0.735 kg");
  });

  it("rounds cash to the store's unit, halves up", () => {
    expect(decStr(roundToUnit(dec("12449")!, dec("100")!))).toBe("12400");
    expect(decStr(roundToUnit(dec("12450")!, dec("100")!))).toBe("12500");
    expect(decStr(roundToUnit(dec("12450")!, 0n))).toBe("12450");
  });
});

import { methodText } from "../src/screens/SalesList";

describe("payment method names", () => {
  it("names pos-core's method keys in the cashier's language", () => {
    expect(methodText("cash")).toBe("Tunai");
    expect(methodText("ewallet:gopay")).toBe("E-wallet GoPay");
    expect(methodText("ewallet:OVO")).toBe("E-wallet OVO");
    expect(methodText("qris")).toBe("QRIS statis");
    expect(methodText("qris_dynamic")).toBe("QRIS dinamis");
    expect(methodText("other:voucher")).toBe("voucher");
    expect(methodText("Tunai")).toBe("Tunai");
  });
});
