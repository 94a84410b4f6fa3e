//! PIN login (also the lock screen and the cashier switch): pick a user, type the PIN on the
//! pad or the keyboard. Then the opening float when no shift is open on this till.

import { useEffect, useRef, useState } from "preact/hooks";
import { Btn } from "../components";
import { useKeys } from "../keyboard";
import { t, tData } from "../i18n";
import { formatMoney, parseTypedAmount, decStr } from "../money";
import { currency, login, showToast, startShift, status, users } from "../state";

function DemoPins() {
  const demo = status.value?.demo;
  if (!demo) return null;
  return (
    <p class="demo-pins" data-testid="demo-pins">
      {t("demo.pins", {
        cashier: demo.cashier_name,
        cashier_pin: demo.cashier_pin,
        supervisor: demo.supervisor_name,
        supervisor_pin: demo.supervisor_pin,
      })}
    </p>
  );
}

const MAX_PIN = 12;

export function Pin() {
  const list = users.value;
  const [userId, setUserId] = useState<string | null>(null);
  // The PIN is also kept in a ref: digits and Enter typed within one task (a test driver, a
  // fast keyboard wedge) must see each other before Preact re-renders.
  const pinRef = useRef("");
  const [pin, setPinState] = useState("");
  const setPin = (v: string) => {
    pinRef.current = v;
    setPinState(v);
  };
  const busy = useRef(false);
  const [, setBusy] = useState(false);
  const user = list.find((u) => u.id === userId) ?? (list.length === 1 ? list[0] : undefined);

  const submit = async () => {
    const p = pinRef.current;
    if (!user || p === "" || busy.current) return;
    busy.current = true;
    setBusy(true);
    const err = await login(user.id, p);
    busy.current = false;
    setBusy(false);
    if (err) setPin("");
  };
  const press = (d: string) => {
    if (pinRef.current.length < MAX_PIN) setPin(pinRef.current + d);
  };

  const digitKeys = Object.fromEntries(
    "0123456789".split("").map((d) => [d, () => press(d)] as const),
  );
  useKeys(
    {
      ...digitKeys,
      Backspace: () => setPin(pinRef.current.slice(0, -1)),
      Enter: () => void submit(),
      Escape: () => setPin(""),
    },
  );

  return (
    <main class="pin-screen">
      <section class="pin-users">
        <h1>{status.value?.store_name ?? t("app.name")}</h1>
        <h2>{t("pin.title")}</h2>
        {list.length === 0 && <p class="muted">{t("pin.no_users")}</p>}
        <div class="user-grid">
          {list.map((u) => (
            <button
              key={u.id}
              type="button"
              class={`user-btn ${user?.id === u.id ? "selected" : ""}`}
              data-testid={`user-${u.name}`}
              aria-pressed={user?.id === u.id}
              onClick={() => {
                setUserId(u.id);
                setPin("");
              }}
            >
              <span class="avatar">{u.name.slice(0, 1).toUpperCase()}</span>
              <span class="user-name">{u.name}</span>
              <span class="muted role">{tData(`role.${u.role}`, u.role)}</span>
            </button>
          ))}
        </div>
        <DemoPins />
      </section>
      <section class="pin-pad-wrap">
        <p class="pin-prompt">{user ? t("pin.enter_pin", { name: user.name }) : t("pin.choose_user")}</p>
        <div class="pin-display" data-testid="pin-display" aria-live="polite">
          {pin.length === 0 ? "\u00a0" : "•".repeat(pin.length)}
        </div>
        <div class="pin-pad">
          {["1", "2", "3", "4", "5", "6", "7", "8", "9"].map((d) => (
            <button type="button" key={d} class="pin-key" data-testid={`pin-key-${d}`} onClick={() => press(d)}>
              {d}
            </button>
          ))}
          <button type="button" class="pin-key pin-clear" onClick={() => setPin("")}>
            {t("pin.clear")}
          </button>
          <button type="button" class="pin-key" data-testid="pin-key-0" onClick={() => press("0")}>
            0
          </button>
          <button
            type="button"
            class="pin-key pin-enter"
            data-testid="pin-enter"
            disabled={!user || pin === "" || busy.current}
            onClick={() => void submit()}
          >
            {t("pin.enter")}
          </button>
        </div>
      </section>
    </main>
  );
}

export function OpeningFloat() {
  const [value, setValue] = useState("");
  const [busy, setBusy] = useState(false);
  const parsed = parseTypedAmount(value, currency.value);
  useEffect(() => {
    document.querySelector<HTMLInputElement>("[data-testid=opening-float]")?.focus();
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (parsed === null) {
      showToast(t("shift.invalid"), "error");
      return;
    }
    setBusy(true);
    await startShift(decStr(parsed));
    setBusy(false);
  };
  return (
    <main class="float-screen">
      <form class="card form" onSubmit={submit}>
        <h1>{t("shift.title")}</h1>
        <p class="muted">{t("sell.cashier", { name: status.value?.user?.name ?? "" })}</p>
        <label>
          {t("shift.opening_float")}
          <input
            data-testid="opening-float"
            inputMode="numeric"
            autoComplete="off"
            class="amount-input"
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
          />
        </label>
        <p class="amount-echo">{parsed !== null ? formatMoney(parsed, currency.value) : "\u00a0"}</p>
        <Btn testid="start-shift" type="submit" kind="primary" disabled={busy}>
          {t("shift.start")}
        </Btn>
      </form>
    </main>
  );
}
