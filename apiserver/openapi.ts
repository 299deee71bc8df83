/**
 * OpenAPI v2 and v3 documents for the Snapshot API, generated from the zod schema in
 * api/snapshot.ts, self-contained (every `$ref` resolves inside the document) so that
 * `kubectl explain snapshot` works through the aggregator.
 * @module
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { SNAPSHOT_API_VERSION, SNAPSHOT_GROUP, VERSION } from "../api/group.ts";
import { Snapshot, SNAPSHOT_KIND, SNAPSHOT_LIST_KIND, SnapshotList, SnapshotSpec, SnapshotStatus } from "../api/snapshot.ts";
import { DELETE_OPTIONS, LIST_META, metaSchemas, OBJECT_META, STATUS } from "./openapi-meta.ts";

export type Flavour = "v2" | "v3";
type Schema = Record<string, unknown>;

const PREFIX = `${SNAPSHOT_GROUP.split(".").reverse().join(".")}.${VERSION}`;
export const SNAPSHOT_SCHEMA = `${PREFIX}.${SNAPSHOT_KIND}`;
export const SNAPSHOT_LIST_SCHEMA = `${PREFIX}.${SNAPSHOT_LIST_KIND}`;
export const GV_PATH = `apis/${SNAPSHOT_API_VERSION}`;
const BASE = `/${GV_PATH}`;
const gvk = (kind: string): { group: string; version: string; kind: string } => ({ group: SNAPSHOT_GROUP, version: VERSION, kind });

function refFor(f: Flavour): (name: string) => Schema {
  const prefix = f === "v2" ? "#/definitions/" : "#/components/schemas/";
  return (name) => ({ $ref: prefix + name });
}

/** zod's output, made to look like Kubernetes' OpenAPI: int64 integers, no closed objects. */
function clean(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(clean);
  if (node === null || typeof node !== "object") return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "$schema" || (k === "additionalProperties" && v === false)) continue;
    if (k === "maximum" && v === Number.MAX_SAFE_INTEGER) continue;
    out[k] = clean(v);
  }
  if (out["type"] === "integer" && out["format"] === undefined) out["format"] = "int64";
  return out;
}

function fromZod(schema: z.ZodType): Schema {
  return clean(z.toJSONSchema(schema, { target: "openapi-3.0", reused: "inline" })) as Schema;
}

/** A described reference: v3 wraps it in allOf (siblings of $ref are ignored there), v2 puts them side by side, as Kubernetes does. */
function describedRef(f: Flavour, name: string, description: string): Schema {
  const ref = refFor(f)(name);
  return f === "v2" ? { ...ref, description } : { allOf: [ref], description };
}

const METADATA_DESCRIPTION = "Standard object's metadata. The name is the BackupRun's name, or <policy>-<first 8 hex of the restic snapshot id>.";
const LIST_METADATA_DESCRIPTION = "Standard list metadata.";

function snapshotSchemas(f: Flavour): Record<string, Schema> {
  const ref = refFor(f);
  const apiVersion = { type: "string", description: Snapshot.shape.apiVersion.description };
  const kind = { type: "string", description: Snapshot.shape.kind.description };
  return {
    [SNAPSHOT_SCHEMA]: {
      type: "object",
      description: Snapshot.description,
      properties: { apiVersion, kind, metadata: describedRef(f, OBJECT_META, METADATA_DESCRIPTION), spec: fromZod(SnapshotSpec), status: fromZod(SnapshotStatus) },
      "x-kubernetes-group-version-kind": [gvk(SNAPSHOT_KIND)],
    },
    [SNAPSHOT_LIST_SCHEMA]: {
      type: "object",
      description: SnapshotList.description,
      required: ["items"],
      properties: {
        apiVersion,
        kind,
        metadata: describedRef(f, LIST_META, LIST_METADATA_DESCRIPTION),
        items: { type: "array", items: ref(SNAPSHOT_SCHEMA), description: SnapshotList.shape.items.description },
      },
      "x-kubernetes-group-version-kind": [gvk(SNAPSHOT_LIST_KIND)],
    },
  };
}

interface Param {
  readonly name: string;
  readonly in: "query" | "path";
  readonly type: "string" | "integer" | "boolean";
  readonly description: string;
}

const P = {
  namespace: { name: "namespace", in: "path", type: "string", description: "object name and auth scope, such as for teams and projects" },
  name: { name: "name", in: "path", type: "string", description: "name of the Snapshot" },
  labelSelector: { name: "labelSelector", in: "query", type: "string", description: "A selector to restrict the list of returned objects by their labels." },
  fieldSelector: { name: "fieldSelector", in: "query", type: "string", description: "A selector on metadata.name and metadata.namespace." },
  limit: { name: "limit", in: "query", type: "integer", description: "Maximum number of items to return; continue gives the rest." },
  continue: { name: "continue", in: "query", type: "string", description: "The continue token of the previous page." },
  resourceVersion: { name: "resourceVersion", in: "query", type: "string", description: "For watch: the version to start from." },
  watch: { name: "watch", in: "query", type: "boolean", description: "Watch for changes and return them as a stream of events." },
  timeoutSeconds: { name: "timeoutSeconds", in: "query", type: "integer", description: "Timeout for the list/watch call." },
  allowWatchBookmarks: { name: "allowWatchBookmarks", in: "query", type: "boolean", description: "Request BOOKMARK watch events." },
  dryRun: { name: "dryRun", in: "query", type: "string", description: "All: validate the delete without forgetting the snapshots." },
} as const satisfies Record<string, Param>;

const LIST_PARAMS: readonly Param[] = [P.labelSelector, P.fieldSelector, P.limit, P.continue, P.resourceVersion, P.watch, P.timeoutSeconds, P.allowWatchBookmarks];

function param(p: Param, f: Flavour): Schema {
  const required = p.in === "path" ? { required: true } : {};
  if (f === "v2") return { name: p.name, in: p.in, description: p.description, type: p.type, uniqueItems: true, ...required };
  return { name: p.name, in: p.in, description: p.description, schema: { type: p.type, uniqueItems: true }, ...required };
}

function ok(schema: string, f: Flavour): Schema {
  const ref = refFor(f)(schema);
  return f === "v2" ? { description: "OK", schema: ref } : { description: "OK", content: { "application/json": { schema: ref } } };
}

interface OpSpec {
  readonly id: string;
  readonly action: "list" | "get" | "delete";
  readonly description: string;
  readonly response: string;
  readonly params: readonly Param[];
}

function operation(op: OpSpec, f: Flavour): Schema {
  const body =
    op.action !== "delete"
      ? {}
      : f === "v2"
        ? { parameters: [...op.params.map((p) => param(p, f)), { name: "body", in: "body", schema: refFor(f)(DELETE_OPTIONS) }] }
        : { requestBody: { content: { "application/json": { schema: refFor(f)(DELETE_OPTIONS) } } } };
  return {
    description: op.description,
    operationId: op.id,
    tags: ["snapshotsBackupPodwardenIo_v1alpha1"],
    ...(f === "v2" ? { consumes: ["*/*"], produces: ["application/json"], schemes: ["https"] } : {}),
    parameters: op.params.map((p) => param(p, f)),
    ...body,
    responses: { "200": ok(op.response, f), "401": { description: "Unauthorized" } },
    "x-kubernetes-action": op.action,
    "x-kubernetes-group-version-kind": gvk(SNAPSHOT_KIND),
  };
}

function paths(f: Flavour): Schema {
  const list = (id: string, params: readonly Param[]): OpSpec => ({ id, action: "list", description: "list or watch Snapshots", response: SNAPSHOT_LIST_SCHEMA, params });
  return {
    [`${BASE}/snapshots`]: { get: operation(list("listSnapshotForAllNamespaces", LIST_PARAMS), f) },
    [`${BASE}/namespaces/{namespace}/snapshots`]: { get: operation(list("listNamespacedSnapshot", [P.namespace, ...LIST_PARAMS]), f) },
    [`${BASE}/namespaces/{namespace}/snapshots/{name}`]: {
      get: operation({ id: "readNamespacedSnapshot", action: "get", description: "read the specified Snapshot", response: SNAPSHOT_SCHEMA, params: [P.namespace, P.name] }, f),
      delete: operation(
        { id: "deleteNamespacedSnapshot", action: "delete", description: "forget the restic snapshots of a Snapshot", response: STATUS, params: [P.namespace, P.name, P.dryRun] },
        f,
      ),
    },
  };
}

function schemas(f: Flavour): Record<string, Schema> {
  const ref = refFor(f);
  return { ...metaSchemas(ref), ...snapshotSchemas(f) };
}

const INFO = { title: "PodWarden Backup Snapshots", version: VERSION };

export function openapiV3Document(): Schema {
  return { openapi: "3.0.0", info: INFO, paths: paths("v3"), components: { schemas: schemas("v3") } };
}

export function openapiV2Document(): Schema {
  return { swagger: "2.0", info: INFO, paths: paths("v2"), definitions: schemas("v2") };
}

export interface Documents {
  readonly v2: string;
  /** SHA-512 of the v2 document, upper-case hex. */
  readonly v2Hash: string;
  readonly v3: string;
  /** SHA-512 of the v3 document, upper-case hex (as kube-openapi writes it). */
  readonly v3Hash: string;
  readonly v3Root: string;
}

let cached: Documents | undefined;

/** The serialized documents, built once per process. */
export function openapiDocuments(): Documents {
  if (cached) return cached;
  const v3 = JSON.stringify(openapiV3Document());
  const v3Hash = createHash("sha512").update(v3).digest("hex").toUpperCase();
  const v3Root = JSON.stringify({ paths: { [GV_PATH]: { serverRelativeURL: `/openapi/v3/${GV_PATH}?hash=${v3Hash}` } } });
  const v2 = JSON.stringify(openapiV2Document());
  const v2Hash = createHash("sha512").update(v2).digest("hex").toUpperCase();
  cached = { v2, v2Hash, v3, v3Hash, v3Root };
  return cached;
}
