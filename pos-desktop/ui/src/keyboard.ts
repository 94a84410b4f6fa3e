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

function keyName(e: KeyboardEvent): string {
  return e.ctrlKey && e.key.length === 1 ? `Ctrl+${e.key.toLowerCase()}` : e.key;
}

export interface ScannerHooks {
  /** Whether a scan is taken now (the selling screen with no dialog open). */
  active: () => boolean;
  /** A scan: `start` is the time of its Enter's keydown; `fromSearch` when the focus was in
   * the search box (the code may then be a name typed quickly). */
  onScan: (code: string, start: number, fromSearch: boolean) => void;
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
    const now = performance.now();
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
        const fromSearch = before?.el.dataset.testid === "search-input";
        if (before && before.el.value !== before.value) {
          // Take the burst's characters out of the field they landed in.
          before.el.value = before.value;
          before.el.dispatchEvent(new Event("input", { bubbles: true }));
        }
        before = null;
        scanner.onScan(ev.code, now, fromSearch);
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
