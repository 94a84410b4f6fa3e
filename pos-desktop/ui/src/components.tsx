//! Small pieces every screen uses: buttons with their F-key hint, dialogs, the toast, the
//! supervisor's approval fields.

import type { ButtonHTMLAttributes, ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { useKeys } from "./keyboard";
import { toast, overlay, users } from "./state";
import { t, type Key } from "./i18n";

interface BtnProps {
  testid?: string;
  hint?: string;
  kind?: "primary" | "secondary" | "danger" | "ghost" | "big";
  onClick?: (e: MouseEvent) => void;
  disabled?: boolean;
  title?: string;
  class?: string;
  type?: "button" | "submit";
  children: ComponentChildren;
  extra?: ButtonHTMLAttributes<HTMLButtonElement>;
}

export function Btn(p: BtnProps) {
  return (
    <button
      type={p.type ?? "button"}
      class={`btn btn-${p.kind ?? "secondary"} ${p.class ?? ""}`}
      data-testid={p.testid}
      onClick={p.onClick}
      disabled={p.disabled}
      title={p.title}
      {...p.extra}
    >
      <span class="btn-label">{p.children}</span>
      {p.hint && <kbd class="hint">{p.hint}</kbd>}
    </button>
  );
}

interface DialogProps {
  title: string;
  testid?: string;
  onClose?: () => void;
  children: ComponentChildren;
  wide?: boolean;
}

/** A modal layer: Esc closes it, screens below see no shortcut while it is open. */
export function Dialog(p: DialogProps) {
  const close = p.onClose ?? (() => (overlay.value = null));
  useKeys({ "*": () => {}, Escape: close });
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const first =
      ref.current?.querySelector<HTMLElement>("[data-autofocus]") ??
      ref.current?.querySelector<HTMLElement>("input, select, textarea");
    first?.focus();
  }, []);
  return (
    <div class="backdrop" onClick={(e) => e.target === e.currentTarget && close()}>
      <div
        class={`dialog ${p.wide ? "dialog-wide" : ""}`}
        role="dialog"
        aria-modal="true"
        aria-label={p.title}
        data-testid={p.testid}
        ref={ref}
      >
        <header class="dialog-head">
          <h2>{p.title}</h2>
          <Btn kind="ghost" onClick={close} hint="Esc" title={t("dlg.close")}>
            ✕
          </Btn>
        </header>
        <div class="dialog-body">{p.children}</div>
      </div>
    </div>
  );
}

export function ToastView() {
  const v = toast.value;
  if (!v) return null;
  return (
    <div
      key={v.id}
      class={`toast toast-${v.kind}`}
      data-testid="toast"
      role={v.kind === "error" ? "alert" : "status"}
      onClick={() => (toast.value = null)}
    >
      {v.text}
    </div>
  );
}

export function T({ k, p }: { k: Key; p?: Record<string, unknown> }) {
  return <>{t(k, p)}</>;
}

/** Who approves (the store's supervisors and managers) and their PIN: the fields of every
 * dialog that needs a supervisor. */
export function SupervisorFields(p: { userId: string; setUserId: (id: string) => void; pin: string; setPin: (pin: string) => void }) {
  const supervisors = users.value.filter((u) => u.role !== "Cashier");
  return (
    <>
      <label>
        {t("supervisor.user")}
        <select data-testid="supervisor-user" value={p.userId} onChange={(e) => p.setUserId(e.currentTarget.value)}>
          {supervisors.map((u) => (
            <option key={u.id} value={u.id}>
              {u.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t("supervisor.pin")}
        <input
          data-testid="supervisor-pin"
          data-autofocus
          type="password"
          inputMode="numeric"
          autoComplete="off"
          value={p.pin}
          onInput={(e) => p.setPin(e.currentTarget.value)}
        />
      </label>
    </>
  );
}

/** The first supervisor, who the supervisor fields start with. */
export function firstSupervisor(): string {
  return users.value.find((u) => u.role !== "Cashier")?.id ?? "";
}

/** `payload` as a QR code image. The encoder (most of the bundle) loads on first use. */
export function QrImage(p: { payload: string; alt: string; testid: string }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    import("qrcode")
      .then((QRCode) => QRCode.toDataURL(p.payload, { margin: 1, width: 260, errorCorrectionLevel: "M" }))
      .then((u) => live && setUrl(u))
      .catch(() => live && setUrl(null));
    return () => {
      live = false;
    };
  }, [p.payload]);
  return url ? <img class="qris" src={url} alt={p.alt} data-testid={p.testid} data-payload={p.payload} /> : null;
}
