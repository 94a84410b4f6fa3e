import { describe, expect, it } from "vitest";
import { waLink, waNumber } from "../src/receipt-link";

describe("WhatsApp receipt links", () => {
  it("read the numbers cashiers type", () => {
    expect(waNumber("0812-3456-7890")).toBe("6281234567890");
    expect(waNumber("+62 812 3456 7890")).toBe("6281234567890");
    expect(waNumber("6281234567890")).toBe("6281234567890");
    expect(waNumber("(0812) 345.678")).toBe("62812345678");
    expect(waNumber("+44 7700 900123")).toBe("447700900123");
  });

  it("refuse what cannot be a WhatsApp number", () => {
    for (const bad of ["", "abc", "0812", "021-555-1234", "+62 21 555 1234", "08123456789012345", "62812x4567890"]) {
      expect(waNumber(bad), bad).toBeNull();
    }
  });

  it("carry the message, receipt link included, encoded", () => {
    const link = waLink("6281234567890", "Struk Anda: https://pos.example/r/0123abcd?x=1&y=2");
    expect(link).toBe("https://wa.me/6281234567890?text=Struk%20Anda%3A%20https%3A%2F%2Fpos.example%2Fr%2F0123abcd%3Fx%3D1%26y%3D2");
  });
});
