//! Every string on screen comes from the dictionaries in dict.ts, Bahasa Indonesia first.
//! `t(key, params)` fills `{name}` placeholders. Reading `lang.value` inside `t` makes every
//! component that shows text re-render when the language changes.

import { signal } from "@preact/signals";
import type { AppError, Language } from "../api/types";
import { en, id, type Key } from "./dict";

export type { Key };

export const lang = signal<Language>("id");

const dicts: Record<Language, Record<Key, string>> = { id, en };

export function fill(text: string, params?: Record<string, unknown>): string {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}

export function t(key: Key, params?: Record<string, unknown>): string {
  return fill(dicts[lang.value][key], params);
}

/** A key built at run time (an error code from the shell): falls back to `fallback`. */
export function tDynamic(key: string, fallback: Key, params?: Record<string, unknown>): string {
  const d = dicts[lang.value] as Record<string, string>;
  return key in d ? fill(d[key], params) : t(fallback, params);
}

/** An error in the cashier's words; unknown codes show the code (contract.md "Errors"). */
export function errorText(e: AppError): string {
  const params: Record<string, unknown> = { ...e.params, code: e.code };
  if (e.code === "enrolment_failed" && typeof e.params.reason === "string") {
    // The reason is pos-core's error code: said in words when the dictionary has it.
    params.reason = tData(`error.${e.params.reason}`, e.params.reason);
  }
  return tDynamic(e.message_key, "error.unknown", params);
}

export function locale(): string {
  return lang.value === "id" ? "id-ID" : "en-GB";
}

/** A key named by data from the shell (a role, a job state); shows `raw` when unknown. */
export function tData(key: string, raw: string): string {
  const d = dicts[lang.value] as Record<string, string>;
  return key in d ? d[key] : raw;
}
