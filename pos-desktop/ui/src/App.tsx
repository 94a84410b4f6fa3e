//! Which screen is shown follows from the shell's AppStatus: first run, PIN, opening float,
//! then selling / payment / paid. Global keys and the auto-lock live here.

import { useEffect } from "preact/hooks";
import { ToastView } from "./components";
import { useKeys } from "./keyboard";
import { FirstRun } from "./screens/FirstRun";
import { Overlays } from "./screens/Dialogs";
import { Paid } from "./screens/Paid";
import { Payment } from "./screens/Payment";
import { OpeningFloat, Pin } from "./screens/Pin";
import { Selling } from "./screens/Selling";
import { SyncBar } from "./screens/SyncBar";
import { lock, overlay, status, view } from "./state";

/** Locks after `secs` without a pointer or key (AppStatus.auto_lock_secs). */
function useAutoLock(secs: number, active: boolean): void {
  useEffect(() => {
    if (!active || secs <= 0) return;
    let timer = setTimeout(() => void lock(), secs * 1000);
    const reset = () => {
      clearTimeout(timer);
      timer = setTimeout(() => void lock(), secs * 1000);
    };
    const opts = { capture: true, passive: true };
    window.addEventListener("pointerdown", reset, opts);
    window.addEventListener("keydown", reset, opts);
    return () => {
      clearTimeout(timer);
      window.removeEventListener("pointerdown", reset, opts);
      window.removeEventListener("keydown", reset, opts);
    };
  }, [secs, active]);
}

function Screen() {
  const s = status.value;
  if (!s) return null;
  if (!s.ready) return <FirstRun />;
  if (!s.user) return <Pin />;
  if (!s.shift_open) return <OpeningFloat />;
  switch (view.value) {
    case "pay":
      return <Payment />;
    case "paid":
      return <Paid />;
    default:
      return <Selling />;
  }
}

export function App() {
  const s = status.value;
  const loggedIn = !!s?.user;
  useAutoLock(s?.auto_lock_secs ?? 120, loggedIn);
  useKeys(
    loggedIn
      ? {
          F1: () => (overlay.value = { kind: "help" }),
          F9: () => (overlay.value = { kind: "sales" }),
          "Ctrl+l": () => void lock(),
        }
      : {},
  );
  return (
    <div class="app">
      <SyncBar />
      <Screen />
      {loggedIn && s?.shift_open && <Overlays />}
      <ToastView />
    </div>
  );
}
