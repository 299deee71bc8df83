/**
 * DELETE of one Snapshot: DeleteOptions (body or dryRun query), preconditions (409), then the
 * index forgets every restic snapshot of the logical one and emits DELETED. Deletes by the
 * namespace controller are answered as done but forget nothing (namespace-cleanup.ts).
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../kube/log.ts";
import { badRequest, conflict, deleted, internalError, notFound, unsupportedMediaType } from "./errors.ts";
import type { DeleteRequest, SnapshotIndex } from "./index.ts";
import { isNamespaceCleanup } from "./namespace-cleanup.ts";
import { sendJSON, setWarnings } from "./respond.ts";
import { requestUrl } from "./request-info.ts";

export interface DeleteContext {
  readonly index: SnapshotIndex;
  readonly log: Logger;
}

interface DeleteOptionsBody {
  readonly kind?: unknown;
  readonly dryRun?: unknown;
  readonly preconditions?: { readonly uid?: unknown; readonly resourceVersion?: unknown } | null;
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType.trim() === "") return true;
  const type = (contentType.split(";")[0] ?? "").trim().toLowerCase();
  return type === "application/json" || type.endsWith("+json");
}

/** The DeleteOptions in the body (may be empty); 415 for a non-JSON body, 400 for bad JSON. */
export function parseDeleteBody(raw: Buffer | undefined, contentType: string | undefined): DeleteOptionsBody {
  if (raw === undefined || raw.length === 0) return {};
  if (!isJson(contentType)) throw unsupportedMediaType(contentType ?? "");
  let body: unknown;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch {
    throw badRequest("the body of a DELETE must be a JSON DeleteOptions object");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw badRequest("the body of a DELETE must be a JSON DeleteOptions object");
  return body as DeleteOptionsBody;
}

function dryRunValues(query: URLSearchParams, body: DeleteOptionsBody): string[] {
  const fromBody = body.dryRun;
  if (fromBody !== undefined && fromBody !== null && (!Array.isArray(fromBody) || !fromBody.every((v) => typeof v === "string"))) {
    throw badRequest('dryRun: Invalid value: must be a list of strings; supported values: "All"');
  }
  return [...query.getAll("dryRun"), ...((fromBody as string[] | null | undefined) ?? [])].filter((v) => v !== "");
}

function stringField(pre: DeleteOptionsBody["preconditions"], field: "uid" | "resourceVersion"): string | undefined {
  const v = pre?.[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw badRequest(`preconditions.${field}: Invalid value: must be a string`);
  return v;
}

function preconditionsOf(body: DeleteOptionsBody): DeleteRequest["preconditions"] {
  const uid = stringField(body.preconditions ?? undefined, "uid");
  const resourceVersion = stringField(body.preconditions ?? undefined, "resourceVersion");
  if (uid === undefined && resourceVersion === undefined) return undefined;
  return { ...(uid === undefined ? {} : { uid }), ...(resourceVersion === undefined ? {} : { resourceVersion }) };
}

export function deleteRequest(query: URLSearchParams, body: DeleteOptionsBody): DeleteRequest {
  const dry = dryRunValues(query, body);
  const bad = dry.find((v) => v !== "All");
  if (bad !== undefined) throw badRequest(`dryRun: Unsupported value: "${bad}": supported values: "All"`);
  const preconditions = preconditionsOf(body);
  return { dryRun: dry.length > 0, ...(preconditions === undefined ? {} : { preconditions }) };
}

/**
 * The namespace controller's delete: answered like a successful delete, nothing is forgotten
 * (deleting a namespace never deletes backups; the rows leave with the BackupPolicies).
 */
function keepForNamespaceDeletion(ctx: DeleteContext, res: ServerResponse, id: { namespace: string; name: string; username: string }): void {
  const stored = ctx.index.get(id.namespace, id.name);
  if (stored === undefined) throw notFound(id.name);
  ctx.log.info({ namespace: id.namespace, snapshot: id.name, user: id.username }, "snapshot delete by the namespace controller answered without forgetting");
  sendJSON(res, 200, deleted(id.name, stored.object.metadata.uid ?? ""));
}

/** The largest DeleteOptions body read (kubectl's are a few hundred bytes). */
const MAX_DELETE_BODY_BYTES = 256 * 1024;

/** The request's body, up to `limit` bytes; a larger or compressed one is refused (400, 415). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const encoding = (req.headers["content-encoding"] ?? "identity").trim().toLowerCase();
  if (encoding !== "identity") return Promise.reject(unsupportedMediaType(`Content-Encoding: ${encoding}`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit the rest is read and dropped, so that the answer still reaches the client.
      if (size <= limit) chunks.push(chunk);
    });
    req.on("end", () => (size > limit ? reject(badRequest(`the request body could not be read: it is larger than ${limit} bytes`)) : resolve(Buffer.concat(chunks))));
    req.on("error", (err) => reject(badRequest(`the request body could not be read: ${err.message}`)));
  });
}

/** Deletes `id`, asked by `username` (authenticated). */
export async function handleDelete(ctx: DeleteContext, req: IncomingMessage, res: ServerResponse, id: { namespace: string; name: string; username: string }): Promise<void> {
  const { index } = ctx;
  const query = requestUrl(req).searchParams;
  const raw = await readBody(req, MAX_DELETE_BODY_BYTES);
  const request = deleteRequest(query, parseDeleteBody(raw, req.headers["content-type"]));
  setWarnings(res, index.problems(id.namespace));
  if (isNamespaceCleanup({ username: id.username, userAgent: req.headers["user-agent"] })) {
    return keepForNamespaceDeletion(ctx, res, id);
  }
  let result;
  try {
    result = await index.delete(id.namespace, id.name, request);
  } catch (err) {
    throw internalError(`forgetting the restic snapshots of ${id.namespace}/${id.name} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (result.outcome === "NotFound") throw notFound(id.name);
  if (result.outcome === "Conflict") throw conflict(id.name, result.message);
  sendJSON(res, 200, deleted(id.name, result.object.metadata.uid ?? ""));
}
