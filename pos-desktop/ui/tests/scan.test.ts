import { describe, expect, it } from "vitest";
import { ScanDetector, type ScanEvent } from "../src/scan";

/** Feeds `text` then Enter, one key every `gap` ms, Enter `enterGap` ms after the last. */
function type(d: ScanDetector, text: string, gap: number, enterGap = gap, t0 = 1000): ScanEvent[] {
  const out: ScanEvent[] = [];
  let t = t0;
  for (const c of text) {
    out.push(d.feed(c, t));
    t += gap;
  }
  out.push(d.feed("Enter", t - gap + enterGap));
  return out;
}

describe("scanner detection", () => {
  it("takes a fast burst ended by Enter as a scan", () => {
    const ev = type(new ScanDetector(), "8991002101234", 8, 10);
    expect(ev.at(-1)).toEqual({ kind: "scan", code: "8991002101234" });
    expect(ev[0]).toEqual({ kind: "char", burstStart: true });
    expect(ev[1]).toEqual({ kind: "char", burstStart: false });
  });

  it("never takes a person typing as a scan", () => {
    for (const gap of [60, 90, 150]) {
      expect(type(new ScanDetector(), "8991002101234", gap).at(-1)).toEqual({ kind: "enter" });
    }
  });

  it("needs at least four characters", () => {
    expect(type(new ScanDetector(), "123", 5).at(-1)).toEqual({ kind: "enter" });
    expect(type(new ScanDetector(), "1234", 5).at(-1)).toEqual({ kind: "scan", code: "1234" });
  });

  it("needs the Enter to follow quickly", () => {
    expect(type(new ScanDetector(), "12345678", 5, 200).at(-1)).toEqual({ kind: "enter" });
  });

  it("keeps only the burst after slow typing", () => {
    const d = new ScanDetector();
    d.feed("a", 0);
    d.feed("b", 200);
    const ev = type(d, "4006381333931", 5, 5, 1000);
    expect(ev[0]).toEqual({ kind: "char", burstStart: true });
    expect(ev.at(-1)).toEqual({ kind: "scan", code: "4006381333931" });
  });

  it("a pause in the middle starts a new burst", () => {
    const d2 = new ScanDetector();
    d2.feed("9", 0);
    d2.feed("9", 5);
    d2.feed("9", 100); // pause: a new burst of 3, too short
    d2.feed("9", 105);
    d2.feed("9", 110);
    expect(d2.feed("Enter", 115)).toEqual({ kind: "enter" });
  });

  it("Shift inside a burst does not break it; other keys do", () => {
    const d = new ScanDetector();
    d.feed("A", 0);
    d.feed("Shift", 2);
    d.feed("B", 4);
    d.feed("C", 8);
    d.feed("D", 12);
    expect(d.feed("Enter", 15)).toEqual({ kind: "scan", code: "ABCD" });
    d.feed("1", 100);
    d.feed("2", 105);
    d.feed("Backspace", 107);
    d.feed("3", 110);
    d.feed("4", 115);
    expect(d.feed("Enter", 118)).toEqual({ kind: "enter" });
  });
});
