// The enrolment link the owner dashboard shows as a QR code, read in one place:
// `snapkasir://enrol?server=<percent-encoded URL>&code=<code>`. The format is defined by
// shared-model's `enrol_link` module (Rust); this parser accepts what that module formats and
// refuses what it refuses (the tests share its examples).

export interface EnrolLink {
  /** The server's base address, http(s), without a trailing `/`. */
  server: string;
  /** The one-time enrolment code. */
  code: string;
}

const PREFIX = "snapkasir://enrol?";
const MAX_SERVER_CHARS = 200;
const MAX_CODE_CHARS = 32;

/** Whether `text` looks like an enrolment link (then `parseEnrolLink` says if it is a good one). */
export function isEnrolLink(text: string): boolean {
  return text.trim().toLowerCase().startsWith(PREFIX);
}

/** The server and code of an enrolment link, or `null` when `text` is not a valid one. */
export function parseEnrolLink(text: string): EnrolLink | null {
  const trimmed = text.trim();
  if (!isEnrolLink(trimmed)) return null;
  let server: string | null = null;
  let code: string | null = null;
  for (const pair of trimmed.slice(PREFIX.length).split("&")) {
    if (!pair) continue;
    const eq = pair.indexOf("=");
    const key = eq < 0 ? pair : pair.slice(0, eq);
    let value: string;
    try {
      value = decodeURIComponent(eq < 0 ? "" : pair.slice(eq + 1));
    } catch {
      return null;
    }
    if (key === "server") {
      if (server !== null) return null;
      server = value.trim();
    } else if (key === "code") {
      if (code !== null) return null;
      code = value.trim();
    }
  }
  if (server === null || code === null) return null;
  if ([...server].length > MAX_SERVER_CHARS) return null;
  const m = /^https?:\/\/([^/?#]*)/i.exec(server);
  if (!m || !m[1]) return null;
  if (/[\s\p{Cc}?#]/u.test(server)) return null;
  if (!code || code.length > MAX_CODE_CHARS || !/^[A-Za-z0-9-]+$/.test(code)) return null;
  return { server: server.replace(/\/+$/, ""), code };
}
