//! `window.__snapkasirPerf` (contract.md "In-app measurement"): scan and pay latencies as the
//! cashier sees them, up to the first animation frame after the DOM changed.

export interface SnapkasirPerf {
  scans: number[];
  pays: number[];
  ready_at: number;
}

declare global {
  interface Window {
    __snapkasirPerf: SnapkasirPerf;
  }
}

export function perf(): SnapkasirPerf {
  if (!window.__snapkasirPerf) window.__snapkasirPerf = { scans: [], pays: [], ready_at: 0 };
  return window.__snapkasirPerf;
}

/** Records `now - start` into `list` at the first animation frame after this call; call it
 * after the state change that renders the result (Preact renders before the frame). */
export function recordAfterFrame(list: "scans" | "pays", start: number): void {
  requestAnimationFrame(() => {
    perf()[list].push(performance.now() - start);
  });
}

let readySet = false;
export function markReady(): void {
  if (readySet) return;
  readySet = true;
  requestAnimationFrame(() => {
    perf().ready_at = performance.now();
  });
}
