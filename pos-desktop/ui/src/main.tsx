//! Start: read the status, listen to the shell's events, install the window keys, render, and
//! tell the shell once the first screen is painted (`session.ui_ready`).

import { render } from "preact";
import { events, session } from "./api";
import { App } from "./App";
import { installKeys } from "./keyboard";
import { perf } from "./perf";
import {
  cartView,
  loadStatus,
  afterLogin,
  onPrintJob,
  overlay,
  refreshSales,
  scan,
  showError,
  status,
  syncView,
  view,
} from "./state";
import "./styles.css";

async function start(): Promise<void> {
  perf();
  void events.syncStatus((v) => (syncView.value = v));
  void events.printJob(onPrintJob);
  void events.salesChanged(() => void refreshSales());
  installKeys({
    active: () =>
      !!status.value?.user && !!status.value.shift_open && view.value === "sell" && overlay.value === null,
    onScan: (code, start, fromSearch) => void scan(code, start, fromSearch),
  });
  try {
    await loadStatus();
    if (status.value?.user) await afterLogin();
  } catch (e) {
    showError(e);
  }
  const root = document.getElementById("app")!;
  render(<App />, root);
  requestAnimationFrame(() => {
    void session.uiReady().catch(() => undefined);
  });
  void cartView;
}

void start();
