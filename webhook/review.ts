/**
 * AdmissionReview v1 in and out: reading a request defensively, and building the response
 * (allowed with a JSON Patch, denied with a code and a field-path message, warnings).
 * @module
 */
import fastJsonPatch from "fast-json-patch";
import type { Reason } from "../kube/status.ts";
import { REASONS } from "../kube/status.ts";

export const OPERATIONS = ["CREATE", "UPDATE", "DELETE", "CONNECT"] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: GroupVersionKind;
  readonly operation: Operation;
  readonly namespace?: string;
  readonly name?: string;
  readonly object: Record<string, unknown> | null;
  readonly oldObject: Record<string, unknown> | null;
  readonly dryRun: boolean;
  readonly username?: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: Reason; message: string };
  patchType?: "JSONPatch";
  patch?: string;
  warnings?: string[];
}

export type ParseResult = { ok: true; request: AdmissionRequest } | { ok: false; message: string };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === "string";

function parseKind(v: unknown): GroupVersionKind | undefined {
  if (!isObject(v) || !isString(v["group"]) || !isString(v["version"]) || !isString(v["kind"])) return undefined;
  return { group: v["group"], version: v["version"], kind: v["kind"] };
}

function objectOrNull(v: unknown): Record<string, unknown> | null | undefined {
  if (v === undefined || v === null) return null;
  return isObject(v) ? v : undefined;
}

/** Checks the envelope; a malformed review gets a message saying what is wrong. */
export function parseReview(body: unknown): ParseResult {
  const fail = (message: string): ParseResult => ({ ok: false, message });
  if (!isObject(body)) return fail("body must be a JSON object: an admission.k8s.io/v1 AdmissionReview");
  if (body["apiVersion"] !== "admission.k8s.io/v1" || body["kind"] !== "AdmissionReview") {
    return fail(`apiVersion/kind must be admission.k8s.io/v1 AdmissionReview, got ${JSON.stringify(body["apiVersion"])}/${JSON.stringify(body["kind"])}`);
  }
  const req = body["request"];
  if (!isObject(req)) return fail("request must be an object");
  if (!isString(req["uid"]) || req["uid"] === "" || req["uid"].length > 256) return fail("request.uid must be a non-empty string of at most 256 characters");
  const kind = parseKind(req["kind"]);
  if (!kind) return fail("request.kind must be {group, version, kind} strings");
  const operation = req["operation"];
  if (!OPERATIONS.includes(operation as Operation)) return fail(`request.operation must be one of ${OPERATIONS.join(", ")}`);
  const object = objectOrNull(req["object"]);
  const oldObject = objectOrNull(req["oldObject"]);
  if (object === undefined || oldObject === undefined) return fail("request.object and request.oldObject must be objects or null");
  const user = isObject(req["userInfo"]) && isString(req["userInfo"]["username"]) ? req["userInfo"]["username"] : undefined;
  return {
    ok: true,
    request: {
      uid: req["uid"],
      kind,
      operation: operation as Operation,
      ...(isString(req["namespace"]) ? { namespace: req["namespace"] } : {}),
      ...(isString(req["name"]) ? { name: req["name"] } : {}),
      object,
      oldObject,
      dryRun: req["dryRun"] === true,
      ...(user !== undefined ? { username: user } : {}),
    },
  };
}

export function allow(uid: string, warnings: readonly string[] = []): AdmissionResponse {
  return { uid, allowed: true, ...(warnings.length > 0 ? { warnings: [...warnings] } : {}) };
}

export function deny(uid: string, reason: Reason, message: string, warnings: readonly string[] = []): AdmissionResponse {
  return { uid, allowed: false, status: { code: REASONS[reason], reason, message }, ...(warnings.length > 0 ? { warnings: [...warnings] } : {}) };
}

/** Allowed, with the JSON Patch from `original` to `mutated`; no patch when nothing changed. */
export function allowWithPatch(uid: string, original: object, mutated: object, warnings: readonly string[] = []): AdmissionResponse {
  const ops = fastJsonPatch.compare(original, mutated);
  const res = allow(uid, warnings);
  if (ops.length === 0) return res;
  return { ...res, patchType: "JSONPatch", patch: Buffer.from(JSON.stringify(ops)).toString("base64") };
}

export function reviewEnvelope(response: AdmissionResponse): object {
  return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response };
}
