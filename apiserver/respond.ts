/**
 * Writing responses: JSON bodies, `Status` errors, and `Warning: 299` headers for degraded
 * repositories.
 * @module
 */
import type { ServerResponse } from "node:http";
import type { PolicyProblem } from "./index.ts";
import type { StatusError } from "./errors.ts";
import { policyKey } from "./types.ts";

/** `body`: an encoded JSON text (Buffer), a JSON text (string), or a value to serialize. */
export function sendJSON(res: ServerResponse, code: number, body: unknown, contentType = "application/json"): void {
  // Encoded once: the length and the bytes written come from the same buffer.
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === "string" ? body : JSON.stringify(body), "utf8");
  res.statusCode = code;
  res.setHeader("Content-Type", contentType);
  res.setHeader("Content-Length", bytes.length);
  res.end(bytes);
}

export function sendStatus(res: ServerResponse, err: StatusError): void {
  sendJSON(res, err.status.code ?? 500, err.status);
}

const MAX_WARNING = 240;

/** One warning as RFC 7234 `299 - "text"`: printable ASCII only, quotes and backslashes escaped. */
export function warningValue(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, "?");
  const cut = ascii.length > MAX_WARNING ? `${ascii.slice(0, MAX_WARNING - 3)}...` : ascii;
  return `299 - "${cut.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

export function warningText(p: PolicyProblem): string {
  if (p.policy === undefined) return `snapshots may be out of date: ${p.reason}: ${p.message}`;
  return `BackupPolicy ${policyKey(p.policy)}: its snapshots may be missing or out of date (${p.reason}): ${p.message}`;
}

/** Sets one Warning header per problem (kubectl prints each as "Warning: …"). */
export function setWarnings(res: ServerResponse, problems: readonly PolicyProblem[]): void {
  if (problems.length === 0) return;
  res.setHeader("Warning", problems.slice(0, 20).map((p) => warningValue(warningText(p))));
}
