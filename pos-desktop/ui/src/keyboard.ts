//! Window-level keys: the barcode scanner (wherever the focus is) and the F-key shortcuts of
//! contract.md. Screens register what a shortcut does while they are shown (`useKeys`).

import { useEffect, useRef } from "preact/hooks";
import { ScanDetector } from "./scan";

export type KeyHandlers = Partial<Record<string, (e: KeyboardEvent) => void>>;

/** The layers of the screens shown now, innermost (last registered) last. */
const stack: { current: KeyHandlers }[] = [];

/** Registers shortcuts while the calling component is mounted. Keys are KeyboardEvent.key
 * values ("F2", "Escape") or "Ctrl+l"; a "*" entry (never called) makes the layer modal.
 * The layer always calls the handlers of the latest render: keys typed faster than effects run
 * (a test driver, a scanner) never reach a stale closure. */
export function useKeys(handlers: KeyHandlers): void {
  const layer = useRef(handlers);
  layer.current = handlers;
  useEffect(() => {
    const l = layer;
    stack.push(l);
    return () => {
      const i = stack.lastIndexOf(l);
      if (i >= 0) stack.splice(i, 1);
    };
  }, []);
}

/** When the key was pressed: the event's own time stamp (a busy page handles queued keys in a
 * quick run, but their stamps keep the real gaps), else now. */
export function eventTime(e: KeyboardEvent): number {
  const now = performance.now();
  return e.timeStamp > 0 && e.timeStamp <= now ? e.timeStamp : now;
}

function keyName(e: KeyboardEvent): string {
  return e.ctrlKey && e.key.length === 1 ? `Ctrl+${e.key.toLowerCase()}` : e.key;
}

export interface ScannerHooks {
  /** Whether a scan is taken now (the selling screen with no dialog open). */
  active: () => boolean;
  /** A scan: `start` is the time of its Enter's keydown; `searchText` is what the search box
   * held when the burst landed there (null when the focus was elsewhere). */
  onScan: (code: string, start: number, searchText: string | null) => void;
  /** Where typing goes when no field has the focus. */
  searchBox: () => HTMLInputElement | null;
}

function isTextField(el: Element | null): el is HTMLInputElement | HTMLTextAreaElement {
  return el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement;
}

/** Installs the window listener; returns its removal. */
export function installKeys(scanner: ScannerHooks): () => void {
  const detector = new ScanDetector();
  // What the focused field held before the burst's first character landed in it.
  let before: { el: HTMLInputElement | HTMLTextAreaElement; value: string } | null = null;

  const onKey = (e: KeyboardEvent) => {
    const now = eventTime(e);
    if (!e.ctrlKey && !e.altKey && !e.metaKey) {
      const ev = detector.feed(e.key, now);
      if (ev.kind === "char" && !isTextField(document.activeElement) && scanner.active()) {
        // Typing with no field focused goes to the search box (focus moves before the
        // character lands, so it lands there).
        scanner.searchBox()?.focus();
      }
      if (ev.kind === "char" && ev.burstStart) {
        const el = document.activeElement;
        before = isTextField(el) ? { el, value: el.value } : null;
      } else if (ev.kind === "scan" && scanner.active()) {
        e.preventDefault();
        e.stopPropagation();
        const el = before?.el ?? null;
        const searchText = el?.dataset.testid === "search-input" ? el.value.trim() : null;
        // Take the burst's characters out of the field they landed in (the search box is
        // emptied: its text is part of the scan).
        const keep = searchText !== null ? "" : before?.value;
        if (el && keep !== undefined && el.value !== keep) {
          el.value = keep;
          el.dispatchEvent(new Event("input", { bubbles: true }));
        }
        before = null;
        scanner.onScan(ev.code, now, searchText);
        return;
      }
    }
    const name = keyName(e);
    for (let i = stack.length - 1; i >= 0; i--) {
      const h = stack[i].current[name];
      if (h) {
        e.preventDefault();
        e.stopPropagation();
        h(e);
        return;
      }
      // A dialog's layer ("*") keeps the screens below it from seeing shortcuts.
      if (stack[i].current["*"]) return;
    }
  };
  window.addEventListener("keydown", onKey, true);
  return () => window.removeEventListener("keydown", onKey, true);
}
