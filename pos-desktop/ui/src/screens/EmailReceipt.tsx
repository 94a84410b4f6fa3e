//! The receipt by email, in the digital receipt dialog: the cashier types the customer's
//! address; the till queues the send and the server emails it when the till is online (once).
//! Each send of the sale is listed with where it stands: sent, waiting for a connection (sent
//! automatically), or failed with the reason in words.

import { useEffect, useState } from "preact/hooks";
import { printing } from "../api";
import type { ReceiptSend } from "../api/types";
import { Btn } from "../components";
import { t } from "../i18n";
import { emailAddress } from "../receipt-link";
import { attempt } from "../state";

/** A send in words. */
export function sendText(s: ReceiptSend): string {
  const email = s.email ?? t("digital.email_forgotten");
  switch (s.state) {
    case "sent":
      return t("digital.email_sent", { email });
    case "failed":
      return t("digital.email_failed", { email, reason: s.last_error ?? "" });
    default:
      return t("digital.email_waiting", { email });
  }
}

/** How often a waiting send is looked at again. */
const REFRESH_MS = 2000;

export function EmailReceipt(p: { saleId: string }) {
  const [typed, setTyped] = useState("");
  const [bad, setBad] = useState(false);
  const [sends, setSends] = useState<ReceiptSend[]>([]);
  useEffect(() => {
    void attempt(() => printing.receiptSends(p.saleId)).then((s) => s && setSends(s));
  }, [p.saleId]);
  const waiting = sends.some((s) => s.state === "waiting");
  useEffect(() => {
    if (!waiting) return;
    const timer = setInterval(() => {
      void printing.receiptSends(p.saleId).then(setSends, () => {});
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [p.saleId, waiting]);
  const send = async (e: Event) => {
    e.preventDefault();
    const email = emailAddress(typed);
    setBad(email === null);
    if (email === null) return;
    const s = await attempt(() => printing.emailReceipt(p.saleId, email));
    if (s) {
      setSends(s);
      setTyped("");
    }
  };
  return (
    <form class="form" onSubmit={send}>
      <label>
        {t("digital.email")}
        <input
          data-testid="email-address"
          type="email"
          inputMode="email"
          autoComplete="off"
          placeholder="nama@contoh.com"
          value={typed}
          onInput={(e) => {
            setTyped(e.currentTarget.value);
            setBad(false);
          }}
        />
      </label>
      {bad && (
        <p class="banner banner-warn" role="alert" data-testid="email-invalid">
          {t("digital.email_invalid")}
        </p>
      )}
      <Btn testid="email-send" type="submit" disabled={!typed.trim()}>
        {t("digital.email_send")}
      </Btn>
      {sends.map((s) => (
        <p
          key={s.send_id}
          class={`badge ${s.state === "sent" ? "badge-ok" : "badge-wait"}`}
          data-testid="email-send-state"
          data-state={s.state}
        >
          {sendText(s)}
        </p>
      ))}
    </form>
  );
}
