//! First run: try the demo store, or enrol this till with a server address and a code (typed
//! or scanned into the field: a scanner types it and ends with Enter, which submits). The
//! dashboard's QR code holds an enrolment link (server and code in one); scanned or pasted into
//! either field it fills both.

import { useState } from "preact/hooks";
import { Btn } from "../components";
import { t } from "../i18n";
import { isEnrolLink, parseEnrolLink } from "../enrol-link";
import { enrol, showToast, startDemo } from "../state";

export function FirstRun() {
  const [serverUrl, setServerUrl] = useState("");
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);

  /** A field's new text: an enrolment link fills both fields, anything else only its own. */
  const typed = (value: string, own: (v: string) => void) => {
    const link = parseEnrolLink(value);
    if (link) {
      setServerUrl(link.server);
      setCode(link.code);
    } else {
      own(value);
    }
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (isEnrolLink(serverUrl) || isEnrolLink(code)) {
      showToast(t("first.bad_link"), "error");
      return;
    }
    if (!serverUrl.trim() || !code.trim()) {
      showToast(t("first.need_both"), "error");
      return;
    }
    setBusy(true);
    await enrol(serverUrl.trim(), code.trim());
    setBusy(false);
  };

  return (
    <main class="first-run">
      <h1>{t("first.title")}</h1>
      <p class="muted">{t("first.subtitle")}</p>
      <div class="first-cards">
        <section class="card">
          <Btn
            testid="demo-button"
            kind="big"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              await startDemo();
              setBusy(false);
            }}
          >
            {t("first.demo")}
          </Btn>
          <p class="muted">{t("first.demo_hint")}</p>
        </section>
        <section class="card">
          <Btn
            testid="enrol-button"
            kind="big"
            onClick={() => document.querySelector<HTMLInputElement>("[data-testid=server-url]")?.focus()}
          >
            {t("first.enrol")}
          </Btn>
          <p class="muted">{t("first.enrol_hint")}</p>
          <form onSubmit={submit} class="form">
            <label>
              {t("first.server_url")}
              <input
                data-testid="server-url"
                type="url"
                inputMode="url"
                autoComplete="off"
                placeholder="https://"
                value={serverUrl}
                onInput={(e) => typed(e.currentTarget.value, setServerUrl)}
              />
            </label>
            <label>
              {t("first.code")}
              <input
                data-testid="enrol-code"
                autoComplete="off"
                autoCapitalize="characters"
                value={code}
                onInput={(e) => typed(e.currentTarget.value, setCode)}
              />
            </label>
            <Btn testid="enrol-submit" type="submit" kind="primary" disabled={busy}>
              {t("first.submit")}
            </Btn>
          </form>
        </section>
      </div>
    </main>
  );
}
