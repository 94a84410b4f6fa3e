//! Tells a barcode scanner from a person. A scanner "types" a code as a burst of characters a
//! few milliseconds apart and ends it with Enter; a person's keystrokes are 80 ms or more apart.
//! A burst of at least `minLength` printable characters, each within `maxGapMs` of the
//! previous, ended by Enter within `maxEnterGapMs`, is a scan. Pure: the caller feeds keys
//! with their times and acts on the result (see `installScanner` in keyboard.ts).

export interface ScanOptions {
  minLength: number;
  maxGapMs: number;
  maxEnterGapMs: number;
}

export const DEFAULT_SCAN: ScanOptions = { minLength: 4, maxGapMs: 30, maxEnterGapMs: 50 };

export type ScanEvent =
  /** A printable character. `burstStart`: it is the first of a possible burst (the caller
   * remembers what the focused field held before it, to take a scan's characters out). */
  | { kind: "char"; burstStart: boolean }
  /** Enter ending a burst: `code` is what was scanned. */
  | { kind: "scan"; code: string }
  /** Enter that is not the end of a scan (a person pressed it). */
  | { kind: "enter" }
  /** Any other key: it breaks a burst. */
  | { kind: "other" };

export class ScanDetector {
  private buf = "";
  private last = -Infinity;

  constructor(private readonly opts: ScanOptions = DEFAULT_SCAN) {}

  /** `key` is KeyboardEvent.key; `time` in ms (event.timeStamp or performance.now()). */
  feed(key: string, time: number): ScanEvent {
    if (key === "Enter") {
      const code = this.buf;
      const ok = code.length >= this.opts.minLength && time - this.last <= this.opts.maxEnterGapMs;
      this.reset();
      return ok ? { kind: "scan", code } : { kind: "enter" };
    }
    if (key.length !== 1 || key < " ") {
      // Shift (a scanner sends it for capitals) neither breaks nor joins a burst.
      if (key !== "Shift") this.reset();
      return { kind: "other" };
    }
    const burstStart = this.buf === "" || time - this.last > this.opts.maxGapMs;
    this.buf = burstStart ? key : this.buf + key;
    this.last = time;
    return { kind: "char", burstStart };
  }

  reset(): void {
    this.buf = "";
    this.last = -Infinity;
  }
}
