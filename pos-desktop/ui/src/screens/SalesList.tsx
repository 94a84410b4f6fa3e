//! The day's sales (F9): receipt number, time in the store's zone, total, methods and whether
//! the server has it. Refreshed on `sales://changed` (see main.tsx), never polled.

import { useEffect } from "preact/hooks";
import { Dialog } from "../components";
import { locale, t, tData } from "../i18n";
import { formatMoney } from "../money";
import { currency, daySales, refreshSales, status } from "../state";

/** "cash", "qris", "ewallet:gopay" (PaymentMethod::key) or a display name, in words. */
export function methodText(m: string): string {
  const [kind, detail] = m.split(":");
  const base = tData(`method.${kind.toLowerCase()}`, "");
  if (!base) return detail ?? m; // "other:voucher": the name the store gave it
  if (!detail) return base;
  const provider = PROVIDERS.find((p) => p.toLowerCase() === detail.toLowerCase()) ?? detail;
  return `${base} ${provider}`;
}

/** The e-wallets offered at payment. */
export const PROVIDERS = ["GoPay", "OVO", "DANA", "ShopeePay", "LinkAja"];

export function SalesList() {
  useEffect(() => void refreshSales(), []);
  const fmt = new Intl.DateTimeFormat(locale(), {
    hour: "2-digit",
    minute: "2-digit",
    timeZone: status.value?.time_zone || undefined,
  });
  const list = daySales.value;
  const cur = currency.value;
  return (
    <Dialog title={t("sales.title")} wide>
      {list.length === 0 && <p class="muted">{t("sales.none")}</p>}
      {list.length > 0 && (
        <table class="sales">
          <thead>
            <tr>
              <th>{t("sales.receipt")}</th>
              <th>{t("sales.time")}</th>
              <th class="num">{t("sales.total")}</th>
              <th>{t("sales.methods")}</th>
              <th>{t("sales.cashier")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((s) => (
              <tr key={s.sale_id} data-testid="sale-row" data-receipt={s.receipt_no} data-on-server={String(s.on_server)}>
                <td class="mono">{s.receipt_no}</td>
                <td>{fmt.format(new Date(s.created_at))}</td>
                <td class="num">{formatMoney(s.total, cur)}</td>
                <td>{s.payment_methods.map(methodText).join(", ")}</td>
                <td>{s.cashier_name}</td>
                <td>
                  <span class={`badge ${s.on_server ? "badge-ok" : "badge-wait"}`}>
                    {s.on_server ? t("sales.on_server") : t("sales.not_on_server")}
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Dialog>
  );
}
