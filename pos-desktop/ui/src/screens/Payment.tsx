//! Payment: cash (quick amounts, "Uang pas", change shown large), QRIS (dynamic through the
//! store's gateway on an enrolled till, `QrisDynamic`; static otherwise or offline: the store's
//! payload as a QR image, confirmed by the cashier with an optional reference), card (EDC
//! approval code), e-wallet (provider and reference), and a split across methods (the tender
//! list and what is left).

import { useEffect, useRef, useState } from "preact/hooks";
import { payment } from "../api";
import type { Due, GatewayCharge, PaymentMethod, Tender } from "../api/types";
import { Btn, QrImage } from "../components";
import { useKeys } from "../keyboard";
import { lang, t } from "../i18n";
import { decOf, decStr, formatMoney, formatQty, parseTypedAmount, type Dec } from "../money";
import { attempt, cartView, currency, pay, showToast, store, syncView, view } from "../state";
import { QrisDynamic } from "./QrisDynamic";
import { unitSymbol } from "./Selling";
import { quickAmounts, summarize } from "../tenders";
import { methodText, PROVIDERS } from "./SalesList";

type Method = "cash" | "qris" | "card" | "ewallet";

interface Entry {
  method: Method;
  amount: Dec;
  reference: string;
  provider: string;
  /** A paid dynamic QRIS charge: the shell adds its tender (amount and reference as the
   * server said). */
  gateway?: string;
}

function toTender(e: Entry): Tender {
  const m: PaymentMethod =
    e.method === "cash"
      ? "Cash"
      : e.method === "qris"
        ? { Qris: { mode: e.gateway ? "Dynamic" : "Static" } }
        : e.method === "card"
          ? "Card"
          : { EWallet: { provider: e.provider } };
  const ref = e.reference.trim();
  return { method: m, amount: decStr(e.amount), reference: e.method === "cash" || ref === "" ? null : ref };
}

function methodKey(e: Entry): string {
  if (e.method === "qris" && e.gateway) return "qris_dynamic";
  return e.method === "ewallet" ? `ewallet:${e.provider}` : e.method;
}

/** The tenders to send and the dynamic QRIS charge among them (the shell adds its tender). */
function split(all: Entry[]): [Tender[], string | null] {
  const gateway = all.find((e) => e.gateway)?.gateway ?? null;
  return [all.filter((e) => !e.gateway).map(toTender), gateway];
}

/** What is being paid for, read-only. */
function PayLines() {
  const p = cartView.value?.priced;
  const cur = currency.value;
  if (!p) return null;
  return (
    <ul class="pay-lines">
      {p.lines.map((l) => (
        <li key={l.line_id}>
          <span class="name">{l.item.name}</span>
          <span class="muted">{formatQty(l.quantity, unitSymbol(l.item.unit), lang.value)}</span>
          <span class="num">{formatMoney(l.amount, cur)}</span>
        </li>
      ))}
    </ul>
  );
}

export function Payment() {
  const [due, setDue] = useState<Due | null>(null);
  const [tenders, setTenders] = useState<Entry[]>([]);
  const [method, setMethod] = useState<Method>("cash");
  const [amountText, setAmountText] = useState("");
  const [reference, setReference] = useState("");
  const [provider, setProvider] = useState(PROVIDERS[0]);
  const [busy, setBusy] = useState(false);
  const enrolled = syncView.value?.enrolled === true;
  const [qrisMode, setQrisMode] = useState<"dynamic" | "static">(enrolled ? "dynamic" : "static");
  const [staticWhy, setStaticWhy] = useState<string | null>(null);
  const [codeShown, setCodeShown] = useState(false);
  const dynamic = method === "qris" && qrisMode === "dynamic" && !tenders.some((e) => e.gateway);
  const amountRef = useRef<HTMLInputElement>(null);
  const cur = currency.value;

  useEffect(() => {
    void attempt(payment.due).then((d) => d && setDue(d));
  }, []);
  useEffect(() => amountRef.current?.focus(), [method, tenders.length]);

  const total = due ? decOf(due.total) : 0n;
  const unit = decOf(store.value?.cash_rounding_unit ?? "0");
  const typed = amountText.trim() === "" ? null : parseTypedAmount(amountText, cur);
  const listed = tenders.map((e) => ({ cash: e.method === "cash", amount: e.amount }));
  const cashTotal = due ? decOf(due.cash_total) : undefined;
  const before = summarize(total, listed, unit, cashTotal);
  const suggested = method === "cash" ? before.outstandingCash : before.outstandingNonCash;
  const current: Entry | null =
    typed !== null && typed > 0n ? { method, amount: typed, reference, provider } : null;
  const withCurrent = summarize(
    total,
    current ? [...listed, { cash: method === "cash", amount: current.amount }] : listed,
    unit,
    cashTotal,
  );
  const quick =
    tenders.length === 0 && due
      ? due.quick_amounts.map((q) => decOf(q)).filter((q) => q > decOf(due.cash_total))
      : quickAmounts(before.outstandingCash);
  const cashDueShown = before.outstandingCash;

  const back = () => (view.value = "sell");

  const addTender = () => {
    const amount = typed ?? suggested;
    if (amount <= 0n) return;
    if (method === "card" && reference.trim() === "") {
      showToast(t("pay.need_approval"), "error");
      return;
    }
    setTenders([...tenders, { method, amount, reference, provider }]);
    setAmountText("");
    setReference("");
  };

  const confirm = async () => {
    if (busy || !due) return;
    const start = performance.now();
    if (amountText.trim() !== "" && typed === null) return showToast(t("pay.invalid_amount"), "error");
    // An empty amount means "exactly what is left" in the chosen method.
    const entry: Entry | null =
      current ?? (suggested > 0n ? { method, amount: suggested, reference, provider } : null);
    const all = entry ? [...tenders, entry] : tenders;
    const s = summarize(
      total,
      all.map((e) => ({ cash: e.method === "cash", amount: e.amount })),
      unit,
      cashTotal,
    );
    if (s.nonCashOver) return showToast(t("pay.over_noncash"), "error");
    if (!s.complete) {
      return showToast(t("pay.short", { amount: formatMoney(s.outstandingCash, cur) }), "error");
    }
    if (all.some((e) => e.method === "card" && e.reference.trim() === "")) {
      return showToast(t("pay.need_approval"), "error");
    }
    setBusy(true);
    const [sent, gateway] = split(all);
    await pay(sent, start, gateway);
    setBusy(false);
  };

  /** A dynamic QRIS charge was paid: the sale completes when nothing else is due, otherwise
   * it joins the tender list and the rest is paid another way. */
  const qrisPaid = async (c: GatewayCharge) => {
    const entry: Entry = { method: "qris", amount: decOf(c.amount), reference: c.reference ?? "", provider: "", gateway: c.payment_id };
    const all = [...tenders, entry];
    const s = summarize(total, all.map((e) => ({ cash: e.method === "cash", amount: e.amount })), unit, cashTotal);
    if (s.complete && !busy) {
      setBusy(true);
      const [sent, gateway] = split(all);
      await pay(sent, performance.now(), gateway);
      setBusy(false);
      return;
    }
    setTenders(all);
    setMethod("cash");
    setAmountText("");
  };

  const pickMethod = (m: Method) => {
    setMethod(m);
    setAmountText("");
    setReference("");
  };

  useKeys(
    {
      Escape: back,
      F12: () => void (dynamic || confirm()),
      Enter: () => void (dynamic || confirm()),
    },
  );

  const change = withCurrent.change;
  const methods: { m: Method; key: "pay.cash" | "pay.qris" | "pay.card" | "pay.ewallet" }[] = [
    { m: "cash", key: "pay.cash" },
    { m: "qris", key: "pay.qris" },
    { m: "card", key: "pay.card" },
    { m: "ewallet", key: "pay.ewallet" },
  ];

  return (
    <main class="payment">
      <section class="pay-left">
        <h2>{t("pay.title")}</h2>
        <div class="pay-due">
          <span>{t("pay.due")}</span>
          <strong data-testid="pay-total">{formatMoney(total, cur)}</strong>
        </div>
        {due && decOf(due.cash_total) !== total && tenders.length === 0 && (
          <div class="pay-sub muted">
            {t("pay.cash_due")}: {formatMoney(due.cash_total, cur)}
          </div>
        )}
        <div class="methods">
          {methods.map(({ m, key }) => (
            <Btn
              key={m}
              testid={`method-${m}`}
              kind={method === m ? "primary" : "secondary"}
              extra={{ "aria-pressed": method === m }}
              onClick={() => pickMethod(m)}
            >
              {t(key)}
            </Btn>
          ))}
        </div>
        {tenders.length === 0 && <PayLines />}
        {tenders.length > 0 && (
          <div class="tender-list">
            <h3>{t("pay.tenders")}</h3>
            <ul>
              {tenders.map((e, i) => (
                <li key={i} class="tender-line" data-testid="tender-line">
                  <span>{methodText(methodKey(e))}</span>
                  {e.reference && <span class="muted">{e.reference}</span>}
                  <span class="num">{formatMoney(e.amount, cur)}</span>
                  {!e.gateway && (
                    <Btn kind="ghost" onClick={() => setTenders(tenders.filter((_, j) => j !== i))}>
                      {t("pay.remove_tender")}
                    </Btn>
                  )}
                </li>
              ))}
            </ul>
            <div class="pay-remaining">
              <span>{t("pay.remaining")}</span>
              <strong data-testid="remaining-amount">
                {formatMoney(method === "cash" ? before.outstandingCash : before.outstandingNonCash, cur)}
              </strong>
            </div>
          </div>
        )}
      </section>

      <section class="pay-right">
        {method === "qris" && enrolled && (
          <div class="providers" role="group" aria-label={t("pay.qris")}>
            <Btn testid="qris-mode-dynamic" kind={qrisMode === "dynamic" ? "primary" : "secondary"} onClick={() => setQrisMode("dynamic")}>
              {t("qris.dynamic")}
            </Btn>
            <Btn testid="qris-mode-static" kind={qrisMode === "static" ? "primary" : "secondary"} onClick={() => setQrisMode("static")}>
              {t("qris.static")}
            </Btn>
          </div>
        )}
        {dynamic && (
          <QrisDynamic
            amount={typed ?? suggested}
            onPaid={(c) => void qrisPaid(c)}
            onStatic={(why) => {
              setQrisMode("static");
              setStaticWhy(why);
            }}
            onShowing={setCodeShown}
          />
        )}
        {method === "qris" && !dynamic && (
          <div class="qris-box">
            {staticWhy && qrisMode === "static" && (
              <p class="banner banner-warn" data-testid="qris-static-why">
                {staticWhy}
              </p>
            )}
            {due?.qris_payload ? <QrImage payload={due.qris_payload} alt="QRIS" testid="qris-image" /> : <p class="banner banner-warn">{t("pay.qris_missing")}</p>}
            <p>{t("pay.qris_scan", { amount: formatMoney(typed ?? suggested, cur) })}</p>
            <p class="muted">{t("qris.static_confirm")}</p>
          </div>
        )}
        {method === "ewallet" && (
          <div class="providers" role="group" aria-label={t("pay.provider")}>
            {PROVIDERS.map((p) => (
              <Btn key={p} testid={`provider-${p}`} kind={provider === p ? "primary" : "secondary"} onClick={() => setProvider(p)}>
                {p}
              </Btn>
            ))}
          </div>
        )}
        {!(dynamic && codeShown) && (
          <label class="amount-label">
            {method === "cash" ? t("pay.received") : t("pay.amount")}
            <input
              ref={amountRef}
              data-testid="tender-amount"
              class="amount-input big"
              inputMode="numeric"
              autoComplete="off"
              placeholder={formatMoney(method === "cash" ? cashDueShown : suggested, cur)}
              value={amountText}
              onInput={(e) => setAmountText(e.currentTarget.value)}
            />
          </label>
        )}
        {typed !== null && !(dynamic && codeShown) && <p class="amount-echo">{formatMoney(typed, cur)}</p>}
        {method === "cash" && (
          <div class="quick">
            <Btn testid="uang-pas" disabled={!due} onClick={() => setAmountText(decStr(cashDueShown))}>
              {t("pay.exact")}
            </Btn>
            {quick.map((q) => (
              <Btn key={String(q)} testid="quick-amount" onClick={() => setAmountText(decStr(q))}>
                {formatMoney(q, cur)}
              </Btn>
            ))}
          </div>
        )}
        {method === "card" && (
          <label>
            {t("pay.approval")}
            <input data-testid="card-approval" autoComplete="off" value={reference} onInput={(e) => setReference(e.currentTarget.value)} />
          </label>
        )}
        {((method === "qris" && !dynamic) || method === "ewallet") && (
          <label>
            {t("pay.reference")}
            <input data-testid="tender-reference" autoComplete="off" value={reference} onInput={(e) => setReference(e.currentTarget.value)} />
          </label>
        )}
        {(method === "cash" || tenders.some((e) => e.method === "cash")) && (
          <div class="change">
            <span>{t("pay.change")}</span>
            <strong data-testid="change-amount">{formatMoney(change, cur)}</strong>
          </div>
        )}
        <div class="pay-buttons">
          <Btn testid="pay-back" onClick={back} hint="Esc">
            {t("pay.back")}
          </Btn>
          {!dynamic && (
            <Btn testid="add-tender" onClick={addTender}>
              {t("pay.add_tender")}
            </Btn>
          )}
          {!dynamic && (
            <Btn testid="pay-confirm" kind="primary" class="confirm" hint="Enter" disabled={busy || !due} onClick={() => void confirm()}>
              {t("pay.confirm")}
            </Btn>
          )}
        </div>
      </section>
    </main>
  );
}

