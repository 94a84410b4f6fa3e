//! The selling screen's dialogs: quantity, weight, discount, note, supervisor PIN, parked
//! carts, help (which opens the store export, `ExportDialog.tsx`). Which one is open is the `overlay` signal.

import { useEffect, useState } from "preact/hooks";
import { selling } from "../api";
import type { Approval, CartLine, Discount, ParkedSummary, SupervisorReason } from "../api/types";
import { Btn, Dialog, SupervisorFields, firstSupervisor } from "../components";
import { locale, supervisorReasonText, t, type Key } from "../i18n";
import { decOf, decStr, parseTypedAmount, parseTypedQuantity } from "../money";
import {
  attempt,
  currency,
  overlay,
  resume,
  setCartDiscount,
  setLineDiscount,
  setLineNote,
  setQuantity,
  showToast,
  status,
  users,
  type Overlay,
} from "../state";
import { ExportDialog } from "./ExportDialog";
import { SalesList } from "./SalesList";

function close() {
  overlay.value = null;
}

/** Closes the dialog after its change went through, unless something else opened meanwhile. */
function done(kind: Overlay["kind"]) {
  if (overlay.value?.kind === kind) close();
}

function QtyDialog({ line }: { line: CartLine }) {
  const weighed = line.item.unit !== "Piece";
  if (weighed) {
    return (
      <WeightDialog
        name={line.item.name}
        initial={decStr(decOf(line.quantity))}
        apply={async (q) => {
          const cv = await setQuantity(line.id, q);
          if (cv) done("qty");
        }}
      />
    );
  }
  return <PieceQtyDialog line={line} />;
}

function PieceQtyDialog({ line }: { line: CartLine }) {
  const [value, setValue] = useState(decStr(decOf(line.quantity)));
  const submit = async (e: Event) => {
    e.preventDefault();
    const q = parseTypedQuantity(value);
    if (q === null || q % 10000n !== 0n) {
      showToast(t("qty.invalid"), "error");
      return;
    }
    const cv = await setQuantity(line.id, decStr(q));
    if (cv) done("qty");
  };
  return (
    <Dialog title={t("qty.title", { name: line.item.name })}>
      <form class="form" onSubmit={submit}>
        <input
          data-testid="qty-input"
          class="amount-input"
          inputMode="numeric"
          autoComplete="off"
          value={value}
          onFocus={(e) => e.currentTarget.select()}
          onInput={(e) => setValue(e.currentTarget.value)}
        />
        <div class="dialog-buttons">
          <Btn onClick={close}>{t("dlg.cancel")}</Btn>
          <Btn testid="qty-ok" type="submit" kind="primary" hint="Enter">
            {t("dlg.ok")}
          </Btn>
        </div>
      </form>
    </Dialog>
  );
}

export function WeightDialog(p: { name: string; initial?: string; apply: (q: string) => Promise<void> }) {
  const [value, setValue] = useState(p.initial ?? "");
  const submit = async (e: Event) => {
    e.preventDefault();
    const q = parseTypedQuantity(value);
    if (q === null || q % 10n !== 0n /* at most 3 decimals */) {
      showToast(t("weight.invalid"), "error");
      return;
    }
    await p.apply(decStr(q));
  };
  return (
    <Dialog title={t("weight.title", { name: p.name })}>
      <form class="form" onSubmit={submit}>
        <input
          data-testid="weight-input"
          class="amount-input"
          inputMode="decimal"
          autoComplete="off"
          placeholder="0,000"
          value={value}
          onFocus={(e) => e.currentTarget.select()}
          onInput={(e) => setValue(e.currentTarget.value)}
        />
        <div class="dialog-buttons">
          <Btn onClick={close}>{t("dlg.cancel")}</Btn>
          <Btn testid="weight-ok" type="submit" kind="primary" hint="Enter">
            {t("dlg.ok")}
          </Btn>
        </div>
      </form>
    </Dialog>
  );
}

/** "5000" / "5.000" is an amount, "10%" a percentage; the mode buttons pick for a bare number. */
export function parseDiscount(text: string, mode: "amount" | "percent"): Discount | null {
  const s = text.trim();
  if (s.endsWith("%") || mode === "percent") {
    const v = parseTypedQuantity(s.replace("%", ""));
    if (v === null || v > 100n * 10000n) return null;
    return { Percent: decStr(v) };
  }
  const v = parseTypedAmount(s, currency.value);
  return v === null || v === 0n ? null : { Amount: decStr(v) };
}

function DiscountDialog({ line }: { line: CartLine | null }) {
  const current = line ? line.discount : null;
  const [mode, setMode] = useState<"amount" | "percent">(
    current && "Percent" in current ? "percent" : "amount",
  );
  const [value, setValue] = useState(
    current ? ("Percent" in current ? decStr(decOf(current.Percent)) : decStr(decOf(current.Amount))) : "",
  );
  const apply = async (d: Discount | null) => {
    const cv = line ? await setLineDiscount(line.id, d) : await setCartDiscount(d);
    if (cv) done("discount");
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const d = parseDiscount(value, mode);
    if (!d) {
      showToast(t("discount.invalid"), "error");
      return;
    }
    await apply(d);
  };
  const title = line ? t("discount.line_title", { name: line.item.name }) : t("discount.cart_title");
  return (
    <Dialog title={title}>
      <form class="form" onSubmit={submit}>
        <div class="segmented" role="group">
          <Btn testid="discount-mode-amount" kind={mode === "amount" ? "primary" : "secondary"} onClick={() => setMode("amount")}>
            {t("discount.amount")}
          </Btn>
          <Btn testid="discount-mode-percent" kind={mode === "percent" ? "primary" : "secondary"} onClick={() => setMode("percent")}>
            {t("discount.percent")}
          </Btn>
        </div>
        <input
          data-testid="discount-input"
          class="amount-input"
          inputMode="decimal"
          autoComplete="off"
          placeholder={mode === "percent" ? "10%" : "5.000"}
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
        />
        <div class="dialog-buttons">
          <Btn testid="discount-remove" kind="danger" onClick={() => void apply(null)}>
            {t("dlg.remove")}
          </Btn>
          <Btn testid="discount-apply" type="submit" kind="primary" hint="Enter">
            {t("discount.apply")}
          </Btn>
        </div>
      </form>
    </Dialog>
  );
}

function NoteDialog({ line }: { line: CartLine }) {
  const [value, setValue] = useState(line.note ?? "");
  const submit = async (e: Event) => {
    e.preventDefault();
    const cv = await setLineNote(line.id, value.trim() === "" ? null : value.trim());
    if (cv) close();
  };
  return (
    <Dialog title={t("note.title", { name: line.item.name })}>
      <form class="form" onSubmit={submit}>
        <input
          data-testid="note-input"
          maxLength={500}
          autoComplete="off"
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
        />
        <div class="dialog-buttons">
          <Btn onClick={close}>{t("dlg.cancel")}</Btn>
          <Btn testid="note-apply" type="submit" kind="primary" hint="Enter">
            {t("note.apply")}
          </Btn>
        </div>
      </form>
    </Dialog>
  );
}

function SupervisorDialog(p: { reason: SupervisorReason | null; approve: (a: Approval) => Promise<void> }) {
  const [userId, setUserId] = useState(firstSupervisor());
  const [pin, setPin] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!userId || !pin || busy) return;
    setBusy(true);
    await p.approve({ userId, pin });
    setBusy(false);
    setPin("");
  };
  return (
    <Dialog title={t("supervisor.title")} testid="supervisor-dialog">
      <form class="form" onSubmit={submit}>
        <p class="banner banner-warn">{supervisorReasonText(p.reason)}</p>
        <SupervisorFields userId={userId} setUserId={setUserId} pin={pin} setPin={setPin} />
        <div class="dialog-buttons">
          <Btn onClick={close}>{t("dlg.cancel")}</Btn>
          <Btn testid="supervisor-ok" type="submit" kind="primary" hint="Enter" disabled={busy}>
            {t("supervisor.ok")}
          </Btn>
        </div>
      </form>
    </Dialog>
  );
}

function ParkedDialog() {
  const [list, setList] = useState<ParkedSummary[] | null>(null);
  useEffect(() => {
    void attempt(selling.parked).then((l) => setList(l ?? []));
  }, []);
  const here = status.value?.terminal_code;
  const fmt = new Intl.DateTimeFormat(locale(), {
    hour: "2-digit",
    minute: "2-digit",
    timeZone: status.value?.time_zone || undefined,
  });
  return (
    <Dialog title={t("parked.title")} wide>
      {list && list.length === 0 && <p class="muted">{t("parked.none")}</p>}
      <ul class="parked-list">
        {list?.map((p) => (
          <li key={p.cart_id}>
            <button type="button" class="parked-item" data-testid="parked-item" onClick={() => void resume(p.cart_id)}>
              <span class="parked-label">{p.label ?? fmt.format(new Date(p.parked_at))}</span>
              <span class="muted">
                {t("parked.lines", { n: p.lines })} ·{" "}
                {t("parked.by", { name: users.value.find((u) => u.id === p.parked_by)?.name ?? p.parked_by })}
              </span>
              {p.terminal_code !== here && (
                <span class="badge badge-warn" data-testid="parked-other-till">
                  {t("parked.other_till", { code: p.terminal_code })}
                </span>
              )}
              <span class="parked-resume">{t("parked.resume")} →</span>
            </button>
          </li>
        ))}
      </ul>
    </Dialog>
  );
}

const HELP: Key[] = [
  "help.f1",
  "help.f2",
  "help.f3",
  "help.f4",
  "help.f6",
  "help.f7",
  "help.f8",
  "help.f9",
  "help.f12",
  "help.esc",
  "help.ctrl_l",
  "help.scan",
];

function HelpDialog() {
  return (
    <Dialog title={t("help.title")}>
      <ul class="help-list">
        {HELP.map((k) => (
          <li key={k}>{t(k)}</li>
        ))}
      </ul>
      <div class="dialog-buttons">
        <Btn testid="export-open" onClick={() => (overlay.value = { kind: "export" })}>
          {t("export.open")}
        </Btn>
      </div>
    </Dialog>
  );
}

export function Overlays() {
  const o: Overlay | null = overlay.value;
  if (!o) return null;
  switch (o.kind) {
    case "help":
      return <HelpDialog />;
    case "sales":
      return <SalesList />;
    case "parked":
      return <ParkedDialog />;
    case "qty":
      return <QtyDialog key={o.line.id} line={o.line} />;
    case "weight":
      return <WeightDialog name={o.name} apply={o.apply} />;
    case "discount":
      return <DiscountDialog key={o.line?.id ?? "cart"} line={o.line} />;
    case "note":
      return <NoteDialog line={o.line} />;
    case "supervisor":
      return <SupervisorDialog reason={o.reason} approve={o.approve} />;
    case "export":
      return <ExportDialog />;
  }
}
