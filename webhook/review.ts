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

/** The request's parts that must be there, or a message saying what is wrong. */
function parseCore(req: Record<string, unknown>): Pick<AdmissionRequest, "uid" | "kind" | "operation" | "object" | "oldObject"> | string {
  if (!isString(req["uid"]) || req["uid"] === "" || req["uid"].length > 256) return "request.uid must be a non-empty string of at most 256 characters";
  const kind = parseKind(req["kind"]);
  if (!kind) return "request.kind must be {group, version, kind} strings";
  const operation = req["operation"];
  if (!OPERATIONS.includes(operation as Operation)) return `request.operation must be one of ${OPERATIONS.join(", ")}`;
  const object = objectOrNull(req["object"]);
  const oldObject = objectOrNull(req["oldObject"]);
  if (object === undefined || oldObject === undefined) return "request.object and request.oldObject must be objects or null";
  return { uid: req["uid"], kind, operation: operation as Operation, object, oldObject };
}

/** Checks the envelope; a malformed review gets a message saying what is wrong. */
export function parseReview(body: unknown): ParseResult {
  if (!isObject(body)) return { ok: false, message: "body must be a JSON object: an admission.k8s.io/v1 AdmissionReview" };
  if (body["apiVersion"] !== "admission.k8s.io/v1" || body["kind"] !== "AdmissionReview") {
    return { ok: false, message: `apiVersion/kind must be admission.k8s.io/v1 AdmissionReview, got ${JSON.stringify(body["apiVersion"])}/${JSON.stringify(body["kind"])}` };
  }
  const req = body["request"];
  if (!isObject(req)) return { ok: false, message: "request must be an object" };
  const core = parseCore(req);
  if (typeof core === "string") return { ok: false, message: core };
  const info = req["userInfo"];
  const username = isObject(info) && isString(info["username"]) ? info["username"] : undefined;
  const optional = (key: "namespace" | "name"): Partial<AdmissionRequest> => (isString(req[key]) ? { [key]: req[key] } : {});
  return {
    ok: true,
    request: { ...core, ...optional("namespace"), ...optional("name"), dryRun: req["dryRun"] === true, ...(username !== undefined ? { username } : {}) },
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
