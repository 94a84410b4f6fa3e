//! Money that arrived after the cashier gave up on its dynamic QRIS code (the customer paid
//! late). pos-core finds it by asking the server about every code no sale took; the selling
//! screen lists it until the cashier refunds it through the gateway or marks it handled, so a
//! late payment is never lost.

import { useEffect, useState } from "preact/hooks";
import { payment } from "../api";
import type { GatewayCharge } from "../api/types";
import { toAppError } from "../api/call";
import { Btn } from "../components";
import { errorText, t } from "../i18n";
import { formatMoney } from "../money";
import { currency, showToast, syncView } from "../state";

export function LatePayments() {
  const [late, setLate] = useState<GatewayCharge[]>([]);
  const online = syncView.value?.server?.online === true;
  useEffect(() => {
    let live = true;
    payment
      .latePayments()
      .then((l) => live && setLate(l))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [online]);
  if (late.length === 0) return null;
  const cur = currency.value;
  const settle = async (c: GatewayCharge, action: "refund" | "dismiss") => {
    try {
      await payment.resolveLate(c.payment_id, action);
      setLate(late.filter((x) => x.payment_id !== c.payment_id));
      if (action === "refund") showToast(t("late.refunded", { amount: formatMoney(c.amount, cur) }), "info");
    } catch (e) {
      showToast(errorText(toAppError(e)), "error");
    }
  };
  return (
    <div class="banner banner-warn late-payments" role="alert" data-testid="late-payments">
      <strong>{t("late.title")}</strong>
      <ul>
        {late.map((c) => (
          <li key={c.payment_id} data-testid="late-payment">
            <span>{t("late.line", { amount: formatMoney(c.amount, cur), reference: c.reference ?? "-" })}</span>
            <Btn testid="late-refund" onClick={() => void settle(c, "refund")}>
              {t("late.refund")}
            </Btn>
            <Btn testid="late-dismiss" kind="ghost" onClick={() => void settle(c, "dismiss")}>
              {t("late.dismiss")}
            </Btn>
          </li>
        ))}
      </ul>
    </div>
  );
}
