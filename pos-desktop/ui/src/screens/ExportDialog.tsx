//! The store export: the till's whole store copied to a USB stick or a folder, to set up a new
//! till from it (docs/operations.md, "A till's store export") or keep it aside. Opened from the
//! help dialog; a supervisor approves, because the export holds the store's data.

import { useEffect, useState } from "preact/hooks";
import { storeExport } from "../api";
import type { ExportDestination, ExportSummary } from "../api/types";
import { Btn, Dialog, SupervisorFields, firstSupervisor } from "../components";
import { locale, t } from "../i18n";
import { attempt, overlay, toast } from "../state";

/** "840 KB", "1,2 MB" in the reader's language. */
export function sizeText(bytes: number): string {
  const fmt = new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 });
  if (bytes < 1024 * 1024) return `${fmt.format(Math.max(1, Math.round(bytes / 1024)))} KB`;
  return `${fmt.format(bytes / (1024 * 1024))} MB`;
}

export function ExportDialog() {
  const [targets, setTargets] = useState<ExportDestination[]>([]);
  const [dir, setDir] = useState("");
  const [userId, setUserId] = useState(firstSupervisor());
  const [pin, setPin] = useState("");
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<ExportSummary | null>(null);
  useEffect(() => {
    void attempt(storeExport.destinations).then((list) => {
      setTargets(list ?? []);
      // A drive that is plugged in comes first; otherwise the documents folder.
      if (list?.length) setDir((d) => d || list[0].path);
    });
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!dir.trim() || !userId || !pin || busy) return;
    setBusy(true);
    const summary = await attempt(() => storeExport.run(dir, { userId, pin }));
    setBusy(false);
    setPin("");
    if (summary) {
      toast.value = null; // a wrong PIN's message before is over
      setDone(summary);
    }
  };
  const close = () => (overlay.value = null);
  if (done) {
    return (
      <Dialog title={t("export.title")} testid="export-dialog">
        <p class="banner banner-promo" data-testid="export-done">
          {t("export.done", { n: done.documents, size: sizeText(done.bytes) })}
        </p>
        <p class="export-path" data-testid="export-path">
          {done.path}
        </p>
        <p class="muted">{t("export.keep_safe")}</p>
        <div class="dialog-buttons">
          <Btn testid="export-close" kind="primary" onClick={close}>
            {t("dlg.ok")}
          </Btn>
        </div>
      </Dialog>
    );
  }
  const drives = targets.filter((d) => d.removable);
  return (
    <Dialog title={t("export.title")} testid="export-dialog">
      <form class="form" onSubmit={submit}>
        <p class="muted">{t("export.explain")}</p>
        {drives.length === 0 && <p class="banner banner-warn">{t("export.no_drive")}</p>}
        {targets.length > 0 && (
          <div class="export-targets">
            {targets.map((d) => (
              <Btn
                key={d.path}
                testid="export-target"
                kind={d.path === dir ? "primary" : undefined}
                onClick={() => setDir(d.path)}
              >
                {d.removable ? t("export.drive", { name: d.label }) : d.label}
              </Btn>
            ))}
          </div>
        )}
        <label>
          {t("export.folder")}
          <input
            data-testid="export-dir"
            autoComplete="off"
            spellcheck={false}
            value={dir}
            onInput={(e) => setDir(e.currentTarget.value)}
          />
        </label>
        <SupervisorFields userId={userId} setUserId={setUserId} pin={pin} setPin={setPin} />
        {busy && (
          <p class="banner banner-warn" data-testid="export-busy" role="status">
            {t("export.busy")}
          </p>
        )}
        <div class="dialog-buttons">
          <Btn onClick={close}>{t("dlg.cancel")}</Btn>
          <Btn testid="export-submit" type="submit" kind="primary" hint="Enter" disabled={busy || !dir.trim() || !pin}>
            {t("export.submit")}
          </Btn>
        </div>
      </form>
    </Dialog>
  );
}
