//! The one place the UI talks to the shell: `invoke("plugin:<plugin>|<command>", args)` with
//! every rejection turned into an AppError (contract.md: `{code, message_key, params}`).

import { invoke } from "@tauri-apps/api/core";
import type { AppError } from "./types";

export function isAppError(e: unknown): e is AppError {
  return typeof e === "object" && e !== null && typeof (e as AppError).code === "string";
}

/** Any rejection as an AppError: a plain string (Tauri's own errors) becomes `internal`. */
export function toAppError(e: unknown): AppError {
  if (isAppError(e)) {
    return {
      code: e.code,
      message_key: e.message_key ?? `error.${e.code}`,
      params: e.params ?? {},
    };
  }
  const detail = e instanceof Error ? e.message : String(e);
  return { code: "internal", message_key: "error.internal", params: { detail } };
}

export async function call<T>(
  plugin: string,
  command: string,
  args?: Record<string, unknown>,
): Promise<T> {
  try {
    return await invoke<T>(`plugin:${plugin}|${command}`, args);
  } catch (e) {
    throw toAppError(e);
  }
}
