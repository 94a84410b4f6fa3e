//! After payment: change (large), the receipt as the printer will print it, print, reprint
//! (a copy), open the drawer, and a new sale (Enter).

import { useEffect, useState } from "preact/hooks";
import { printing } from "../api";
import { Btn } from "../components";
import { useKeys } from "../keyboard";
import { t, tData } from "../i18n";
import { formatMoney } from "../money";
import { attempt, currency, lastPaid, newSale, openDrawer, printJobs, printReceipt } from "../state";

export function Paid() {
  const paid = lastPaid.value;
  const [png, setPng] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    if (!paid) return;
    void attempt(() => printing.receiptPreview(paid.sale_id)).then((b64) => {
      if (b64) setPng(b64);
      else setMissing(true);
    });
  }, [paid?.sale_id]);
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
    </main>
  );
}
