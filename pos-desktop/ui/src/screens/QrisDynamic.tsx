//! Dynamic QRIS on the payment screen: a code made by the store's gateway for this amount,
//! shown with the amount and a countdown to its expiry. "Paid" arrives as the shell's
//! `payment://qris` event (pushed by the server within a second of the gateway's notification;
//! the cashier never refreshes). An expired, cancelled or refused code says so in words and
//! offers a new code; a till that cannot reach its server, or a store without a gateway, falls
//! back to the static QRIS.

import { useEffect, useRef, useState } from "preact/hooks";
import { events, payment } from "../api";
import type { GatewayCharge } from "../api/types";
import { Btn, QrImage } from "../components";
import { toAppError } from "../api/call";
import { errorText, t } from "../i18n";
import { decStr, formatMoney, type Dec } from "../money";
import { currency } from "../state";

/** The words for a code that ended without the money. */
function endedText(status: GatewayCharge["status"]): string {
  switch (status) {
    case "expired":
      return t("qris.expired");
    case "cancelled":
      return t("qris.cancelled");
    case "denied":
      return t("qris.denied");
    default:
      return t("qris.failed");
  }
}

/** "4:59" from milliseconds. */
export function countdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export function QrisDynamic(p: {
  amount: Dec;
  onPaid: (c: GatewayCharge) => void;
  onStatic: (why: string) => void;
  /** A code is on screen (its amount is fixed: the screen hides the amount field). */
  onShowing?: (showing: boolean) => void;
}) {
  const [charge, setCharge] = useState<GatewayCharge | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());
  const live = useRef<GatewayCharge | null>(null);
  live.current = charge;
  const cur = currency.value;
  const paid = useRef(p.onPaid);
  paid.current = p.onPaid;

  const take = (c: GatewayCharge) => {
    setCharge(c);
    if (c.status === "paid") paid.current(c);
  };

  useEffect(() => {
    const off = events.qris((c) => {
      if (c.payment_id === live.current?.payment_id) take(c);
    });
    return () => {
      void off.then((f) => f());
      // Leaving the screen with a code still payable: the till gives up on it (a payment made
      // anyway is found later and shown as a late payment).
      const c = live.current;
      if (c && c.status === "pending") void payment.qrisCancel(c.payment_id).catch(() => undefined);
    };
  }, []);

  const pending = charge?.status === "pending";
  const showing = p.onShowing;
  useEffect(() => showing?.(pending || charge?.status === "paid"), [pending, charge?.status]);
  useEffect(() => {
    if (!pending) return;
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, [pending]);
  const left = charge ? charge.expires_at - now : 0;
  useEffect(() => {
    if (pending && charge && left <= 0) void cancel();
  }, [pending, left <= 0]);

  const start = async () => {
    if (busy || p.amount <= 0n) return;
    setBusy(true);
    setProblem(null);
    try {
      const c = await payment.qrisStart(decStr(p.amount));
      setNow(Date.now());
      take(c);
    } catch (e) {
      const err = toAppError(e);
      if (err.code === "no_gateway") p.onStatic(t("qris.no_gateway"));
      else if (err.code === "server_unreachable") p.onStatic(t("qris.offline"));
      else setProblem(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  async function cancel() {
    const c = live.current;
    if (!c) return;
    try {
      take(await payment.qrisCancel(c.payment_id));
    } catch (e) {
      setProblem(errorText(toAppError(e)));
      setCharge({ ...c, status: "cancelled" });
    }
  }

  if (!charge || charge.status === "creating") {
    return (
      <div class="qris-box" data-testid="qris-dynamic">
        <p>{t("qris.make_hint", { amount: formatMoney(p.amount, cur) })}</p>
        {problem && (
          <p class="banner banner-warn" role="alert" data-testid="qris-problem">
            {problem}
          </p>
        )}
        <Btn testid="qris-start" kind="primary" disabled={busy || p.amount <= 0n} onClick={() => void start()}>
          {t("qris.make", { amount: formatMoney(p.amount, cur) })}
        </Btn>
      </div>
    );
  }
  if (charge.status === "pending") {
    return (
      <div class="qris-box" data-testid="qris-dynamic" data-payment={charge.payment_id}>
        <QrImage payload={charge.qr_string} alt="QRIS" testid="qris-dynamic-image" />
        <strong class="qris-amount" data-testid="qris-amount">
          {formatMoney(charge.amount, cur)}
        </strong>
        <p data-testid="qris-waiting">
          {t("qris.waiting")} · <span data-testid="qris-countdown">{t("qris.valid_for", { time: countdown(left) })}</span>
        </p>
        <Btn testid="qris-cancel" onClick={() => void cancel()}>
          {t("qris.cancel")}
        </Btn>
      </div>
    );
  }
  if (charge.status === "paid") {
    return (
      <div class="qris-box" data-testid="qris-dynamic">
        <p class="banner banner-promo" role="status" data-testid="qris-paid">
          {t("qris.paid", { amount: formatMoney(charge.amount, cur) })}
        </p>
      </div>
    );
  }
  return (
    <div class="qris-box" data-testid="qris-dynamic">
      <p class="banner banner-warn" role="alert" data-testid="qris-ended">
        {endedText(charge.status)}
      </p>
      {problem && <p class="muted">{problem}</p>}
      <Btn testid="qris-start" kind="primary" disabled={busy} onClick={() => void start()}>
        {t("qris.make_again")}
      </Btn>
    </div>
  );
}
