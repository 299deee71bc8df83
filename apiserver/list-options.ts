/**
 * Query parameters of list, get and watch: selectors, limit/continue, includeObject,
 * resourceVersion, timeoutSeconds. Every bad value is a 400 naming the parameter.
 * @module
 */
import { badRequest, expired } from "./errors.ts";
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from "./selectors.ts";
import type { FieldRequirement, Requirement } from "./selectors.ts";
import { INCLUDE_OBJECT } from "./table.ts";
import type { IncludeObject } from "./table.ts";
import type { Snapshot } from "../api/snapshot.ts";

export interface Filter {
  readonly labels: readonly Requirement[];
  readonly fields: readonly FieldRequirement[];
}

export function parseFilter(q: URLSearchParams): Filter {
  return { labels: parseLabelSelector(q.get("labelSelector") ?? undefined), fields: parseFieldSelector(q.get("fieldSelector") ?? undefined) };
}

export function matches(filter: Filter, s: Snapshot): boolean {
  return matchesFields(filter.fields, s.metadata) && matchesLabels(filter.labels, s.metadata.labels);
}

function nonNegativeInt(q: URLSearchParams, name: string): number | undefined {
  const raw = q.get(name);
  if (raw === null || raw === "") return undefined;
  if (!/^\d+$/.test(raw)) throw badRequest(`${name}: Invalid value: "${raw}": must be a non-negative integer`);
  return Number(raw);
}

/** limit=0 or absent: no limit. */
export function parseLimit(q: URLSearchParams): number | undefined {
  const n = nonNegativeInt(q, "limit");
  return n === 0 ? undefined : n;
}

export function parseTimeoutSeconds(q: URLSearchParams): number | undefined {
  return nonNegativeInt(q, "timeoutSeconds");
}

export function parseIncludeObject(q: URLSearchParams): IncludeObject {
  const raw = q.get("includeObject");
  if (raw === null || raw === "") return "Metadata";
  if ((INCLUDE_OBJECT as readonly string[]).includes(raw)) return raw as IncludeObject;
  throw badRequest(`includeObject: Unsupported value: "${raw}": supported values: "Metadata", "Object", "None"`);
}

/** undefined for "" and "0" (any/most recent); otherwise the number. */
export function parseResourceVersion(q: URLSearchParams): number | undefined {
  const raw = q.get("resourceVersion");
  if (raw === null || raw === "" || raw === "0") return undefined;
  if (!/^\d+$/.test(raw)) throw badRequest(`resourceVersion: Invalid value: "${raw}": must be a resourceVersion this server returned (a decimal number)`);
  return Number(raw);
}

export function parseBool(q: URLSearchParams, name: string): boolean | undefined {
  const raw = q.get(name);
  if (raw === null || raw === "") return undefined;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw badRequest(`${name}: Invalid value: "${raw}": must be true or false`);
}

interface ContinueToken {
  readonly v: 1;
  readonly rv: number;
  /** Sort key of the last item returned. */
  readonly key: string;
}

export function encodeContinue(rv: number, key: string): string {
  return Buffer.from(JSON.stringify({ v: 1, rv, key } satisfies ContinueToken)).toString("base64url");
}

const CONTINUE_EXPIRED =
  "the provided continue parameter is too old or not valid: start a new list without the continue parameter";

/** The key to continue after; 410 Expired when the token is not one of ours. */
export function decodeContinue(token: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw expired(CONTINUE_EXPIRED);
  }
  const t = parsed as Partial<ContinueToken> | null;
  if (t === null || typeof t !== "object" || t.v !== 1 || typeof t.key !== "string" || typeof t.rv !== "number") throw expired(CONTINUE_EXPIRED);
  return t.key;
}
