//! After payment: change (large), the receipt as the printer will print it, print, reprint
//! (a copy), open the drawer, the digital receipt (its link as a QR code for the customer, sent
//! by WhatsApp, or by email through the server), and a new sale (Enter).

import { useEffect, useState } from "preact/hooks";
import { printing } from "../api";
import { Btn, Dialog, QrImage } from "../components";
import { useKeys } from "../keyboard";
import { t, tData } from "../i18n";
import { formatMoney } from "../money";
import { waLink, waNumber } from "../receipt-link";
import { EmailReceipt } from "./EmailReceipt";
import { attempt, currency, lastPaid, newSale, openDrawer, printJobs, printReceipt, status } from "../state";

/** The digital receipt: the customer scans its link, or the store's phone scans a WhatsApp
 * link that sends it to the customer's number (typed here, used for this link only). */
function DigitalReceipt(p: { link: string; receiptNo: string; saleId: string; onClose: () => void }) {
  const [typed, setTyped] = useState("");
  const [wa, setWa] = useState<string | null>(null);
  const [bad, setBad] = useState(false);
  const makeWa = (e: Event) => {
    e.preventDefault();
    const number = waNumber(typed);
    setBad(number === null);
    setWa(
      number &&
        waLink(number, t("digital.wa_message", { store: status.value?.store_name ?? "", no: p.receiptNo, link: p.link })),
    );
  };
  return (
    <Dialog title={t("digital.title")} testid="digital-receipt" onClose={p.onClose} wide>
      <div class="digital-receipt">
        <section>
          <QrImage payload={p.link} alt={t("digital.title")} testid="digital-receipt-qr" />
          <p>{t("digital.scan")}</p>
          <p class="export-path" data-testid="digital-receipt-link">
            {p.link}
          </p>
          <p class="muted">{t("digital.after_sync")}</p>
        </section>
        <form class="form" onSubmit={makeWa}>
          <label>
            {t("digital.wa_number")}
            <input
              data-testid="wa-number"
              type="tel"
              inputMode="tel"
              autoComplete="off"
              placeholder="0812…"
              value={typed}
              onInput={(e) => {
                setTyped(e.currentTarget.value);
                setWa(null);
              }}
            />
          </label>
          {bad && (
            <p class="banner banner-warn" role="alert" data-testid="wa-invalid">
              {t("digital.wa_invalid")}
            </p>
          )}
          <Btn testid="wa-make" type="submit" disabled={!typed.trim()}>
            {t("digital.wa_make")}
          </Btn>
          {wa && (
            <>
              <QrImage payload={wa} alt="WhatsApp" testid="wa-qr" />
              <p>{t("digital.wa_scan")}</p>
            </>
          )}
        </form>
        <EmailReceipt saleId={p.saleId} />
      </div>
    </Dialog>
  );
}

export function Paid() {
  const paid = lastPaid.value;
  const [png, setPng] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);
  const [digital, setDigital] = useState(false);
  useEffect(() => {
    if (!paid) return;
    void attempt(() => printing.receiptPreview(paid.sale_id)).then((b64) => {
      if (b64) setPng(b64);
      else setMissing(true);
    });
  }, [paid?.sale_id]);
  // While the digital receipt is open, Enter and Esc are its own (the dialog takes the keys).
  useKeys({ Enter: newSale, Escape: newSale, F12: newSale });
  if (!paid) return null;
  const jobs = Object.values(printJobs.value).filter((j) => j.record_id === paid.sale_id);
  const job = jobs.sort((a, b) => b.job_id - a.job_id)[0];
  const cur = currency.value;
  return (
    <main class="paid" data-testid="paid-screen">
      <section class="paid-left">
        <h1>{t("paid.title")}</h1>
        <p class="muted">{t("paid.receipt", { no: paid.receipt_no })}</p>
        <div class="change change-big">
          <span>{t("paid.change")}</span>
          <strong data-testid="change-amount">{formatMoney(paid.change, cur)}</strong>
        </div>
        <p class="muted">
          {t("sell.total")} {formatMoney(paid.total, cur)}
        </p>
        {job && (
          <p class={`badge ${job.state === "Printed" ? "badge-ok" : "badge-wait"}`} data-testid="print-state" title={job.description}>
            {tData(`print.state.${job.state}`, job.state)}
          </p>
        )}
        {job && ["Held", "Retrying", "Failed"].includes(job.state) && (
          <p class="muted print-detail">{job.last_error ?? job.description}</p>
        )}
        <div class="paid-buttons">
          <Btn testid="print-button" onClick={() => void printReceipt(paid.sale_id)}>
            {t("paid.print")}
          </Btn>
          <Btn testid="reprint-button" onClick={() => void printReceipt(paid.sale_id)}>
            {t("paid.reprint")}
          </Btn>
          <Btn testid="drawer-button" onClick={() => void openDrawer()}>
            {t("paid.drawer")}
          </Btn>
          {paid.receipt_link && (
            <Btn testid="digital-receipt-button" onClick={() => setDigital(true)}>
              {t("digital.open")}
            </Btn>
          )}
        </div>
        <Btn testid="new-sale" kind="primary" class="new-sale" hint="Enter" onClick={newSale}>
          {t("paid.new_sale")}
        </Btn>
      </section>
      <section class="paid-right">
        {png ? (
          <img class="receipt" data-testid="receipt-preview" src={`data:image/png;base64,${png}`} alt={t("paid.receipt", { no: paid.receipt_no })} />
        ) : (
          missing && <p class="muted">{t("paid.no_preview")}</p>
        )}
      </section>
      {digital && paid.receipt_link && (
        <DigitalReceipt link={paid.receipt_link} receiptNo={paid.receipt_no} saleId={paid.sale_id} onClose={() => setDigital(false)} />
      )}
    </main>
  );
}
