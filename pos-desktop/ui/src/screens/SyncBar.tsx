//! The sync bar, always on screen: online or not, changes waiting, the last sync in words
//! ("2 menit lalu"), and warnings in words. Fed by `sync://status` events; `now` ticks every
//! 30 s only to age the "… ago" text.

import { signal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { SyncView, SyncWarning } from "../api/types";
import { Btn } from "../components";
import { lang, t } from "../i18n";
import { lock, overlay, status, syncView, toggleLanguage } from "../state";

const now = signal(Date.now());

/** "baru saja", "2 menit lalu", "3 jam lalu", "2 hari lalu". */
export function ago(then: number, at: number): string {
  const min = Math.floor((at - then) / 60000);
  if (min < 1) return t("time.just_now");
  if (min < 60) return t("time.minutes_ago", { n: min });
  const h = Math.floor(min / 60);
  if (h < 48) return t("time.hours_ago", { n: h });
  return t("time.days_ago", { n: Math.floor(h / 24) });
}

function warningText(w: SyncWarning, at: number): string {
  switch (w.kind) {
    case "offline_too_long":
      return t("sync.warn.offline_too_long", { when: ago(Date.parse(w.since), at) });
    case "queue_too_long":
      return t("sync.warn.queue_too_long", { n: w.waiting_sales });
    case "clock_skew":
      return t("sync.warn.clock_skew", { minutes: Math.round(Math.abs(w.skew_ms) / 60000) });
    case "update_required":
      return t(w.outdated === "till" ? "sync.warn.update_till" : "sync.warn.update_server");
  }
}

export function syncFacts(v: SyncView | null) {
  const s = v?.server ?? null;
  return {
    online: s?.online ?? false,
    waiting: s ? s.waiting_sales : 0,
    lastSync: s?.last_sync ? Date.parse(s.last_sync) : null,
    warnings: s?.warnings ?? [],
    peers: v?.lan?.peers.length ?? 0,
  };
}

export function SyncBar() {
  useEffect(() => {
    const id = setInterval(() => (now.value = Date.now()), 30_000);
    return () => clearInterval(id);
  }, []);
  const v = syncView.value;
  const st = status.value;
  const f = syncFacts(v);
  const enrolled = v?.enrolled ?? false;
  const at = now.value;
  return (
    <header class="topbar">
      <div
        class={`sync-bar ${f.online ? "online" : "offline"}`}
        data-testid="sync-bar"
        data-online={String(f.online)}
        data-waiting={String(f.waiting)}
        title={v?.server?.last_error ?? v?.lan?.last_error ?? undefined}
        role="status"
      >
        <span class="dot" aria-hidden="true" />
        {!enrolled ? (
          <span>{st?.ready ? t("sync.demo") : t("sync.not_enrolled")}</span>
        ) : (
          <>
            <strong>{f.online ? t("sync.online") : t("sync.offline")}</strong>
            <span>{f.waiting > 0 ? t("sync.waiting", { n: f.waiting }) : t("sync.all_sent")}</span>
            <span class="muted">{f.lastSync ? t("sync.last", { when: ago(f.lastSync, at) }) : t("sync.never")}</span>
            {f.peers > 0 && <span class="muted">{t("sync.lan_peers", { n: f.peers })}</span>}
          </>
        )}
        {f.warnings.map((w, i) => (
          <span key={i} class="sync-warning" data-testid="sync-warning">
            ⚠ {warningText(w, at)}
          </span>
        ))}
      </div>
      <div class="top-actions">
        {st?.user && st.shift_open && (
          <>
            <span class="who">{t("sell.cashier", { name: st.user.name })}</span>
            <Btn testid="sales-button" kind="ghost" hint="F9" onClick={() => (overlay.value = { kind: "sales" })}>
              {t("sell.sales")}
            </Btn>
            <Btn testid="help-button" kind="ghost" hint="F1" onClick={() => (overlay.value = { kind: "help" })}>
              {t("sell.help")}
            </Btn>
          </>
        )}
        <Btn testid="language-toggle" kind="ghost" onClick={() => void toggleLanguage()} title={t("lang.toggle")}>
          <span class={lang.value === "id" ? "lang-on" : "lang-off"}>ID</span>
          <span class={lang.value === "en" ? "lang-on" : "lang-off"}>EN</span>
        </Btn>
        {st?.user && (
          <Btn testid="lock-button" kind="ghost" hint="Ctrl+L" onClick={() => void lock()}>
            {t("sell.lock")}
          </Btn>
        )}
      </div>
    </header>
  );
}
