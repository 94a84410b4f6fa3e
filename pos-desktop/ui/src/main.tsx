//! Start: read the status, listen to the shell's events, install the window keys, render, and
//! tell the shell once the first screen is painted (`session.ui_ready`).

import { render } from "preact";
import { events, session } from "./api";
import { App } from "./App";
import { installKeys } from "./keyboard";
import { perf } from "./perf";
import {
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
  const listening = [
    events.syncStatus((v) => (syncView.value = v)),
    events.printJob(onPrintJob),
    events.salesChanged(() => void refreshSales()),
  ];
  for (const l of listening) l.catch(showError);
  installKeys({
    active: () =>
      !!status.value?.user && !!status.value.shift_open && view.value === "sell" && overlay.value === null,
    onScan: (code, start, searchText) =>
      void (searchText === null
        ? scan(code, start)
        : scan(/\s/.test(searchText) ? [code] : [searchText, code], start, true)),
    searchBox: () => document.querySelector<HTMLInputElement>("[data-testid=search-input]"),
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
}

void start();
