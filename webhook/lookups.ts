/**
 * The lookups validation needs, answered from watch-backed caches (never one API call per
 * review): StorageConnections, BackupPolicies, Deployments and StatefulSets.
 * @module
 */
import type { SnapshotAnswer, SnapshotCheck, SnapshotFacts, ValidationContext, WorkloadKind } from "../api/index.ts";
import { GROUP, SNAPSHOT_GROUP, VERSION } from "../api/index.ts";
import type { Cache, KubernetesObject } from "../kube/informer.ts";
import { startCache } from "../kube/informer.ts";
import { unlessNotFound } from "../kube/rest.ts";
import type { KubeClient } from "../kube/rest.ts";
import type { AdmissionRequest } from "./review.ts";
import type { Logger } from "../kube/log.ts";

type Scalable = KubernetesObject & { spec?: { replicas?: number } };

export interface LookupCaches {
  readonly storage: Cache<KubernetesObject>;
  readonly policies: Cache<KubernetesObject>;
  readonly deployments: Cache<Scalable>;
  readonly statefulsets: Cache<Scalable>;
}

export function startLookupCaches(client: KubeClient, log: Logger): LookupCaches {
  return {
    storage: startCache(client, { path: `/apis/${GROUP}/${VERSION}/storageconnections` }, log),
    policies: startCache(client, { path: `/apis/${GROUP}/${VERSION}/backuppolicies` }, log),
    deployments: startCache(client, { path: "/apis/apps/v1/deployments" }, log),
    statefulsets: startCache(client, { path: "/apis/apps/v1/statefulsets" }, log),
  };
}

export async function cachesSynced(c: LookupCaches): Promise<void> {
  await Promise.all([c.storage.synced, c.policies.synced, c.deployments.synced, c.statefulsets.synced]);
}

/** Live reads: a cache miss (an object created a moment ago), and a restore's Snapshot. */
export interface LiveReads {
  readonly storageConnectionExists: (name: string) => Promise<boolean>;
  readonly policyExists: (namespace: string, name: string) => Promise<boolean>;
  readonly snapshot: (namespace: string, name: string) => Promise<SnapshotAnswer>;
}

export type RequestLookups = Partial<ValidationContext & SnapshotCheck>;

export interface Lookups {
  readonly context: ValidationContext & SnapshotCheck;
  /** Per request, before validating: what the caches cannot answer, read live. */
  readonly prepare: (req: AdmissionRequest) => Promise<RequestLookups>;
}

/** The object's referenced names, for the references the validators check. */
function references(req: AdmissionRequest): { storage?: string; policy?: string; snapshot?: string } {
  const spec = (req.object?.["spec"] ?? {}) as { storageRef?: { name?: unknown }; policyRef?: { name?: unknown }; snapshot?: unknown };
  const name = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
  if (req.operation !== "CREATE") return {};
  if (req.kind.kind === "BackupPolicy") return { storage: name(spec.storageRef?.name) };
  if (req.kind.kind === "BackupRun") return { policy: name(spec.policyRef?.name) };
  if (req.kind.kind === "RestoreRun") return { policy: name(spec.policyRef?.name), snapshot: name(spec.snapshot) };
  return {};
}

/**
 * Lookups from the caches. A StorageConnection or policy created a moment before the object
 * that names it (one `kubectl apply -f dir/`) may not have reached the watch yet: a miss is
 * confirmed with one live read for that request, so it is never wrongly denied. A RestoreRun's
 * Snapshot is read from the Snapshot API (the same index `kubectl get snapshots` shows).
 */
export function createLookups(c: LookupCaches, live: LiveReads, now: () => Date): Lookups {
  const cached = cacheLookups(c, now);
  const context = { ...cached, snapshot: (): SnapshotAnswer => ({ unavailable: "the Snapshot was not looked up" }) };
  return {
    context,
    prepare: async (req) => {
      const refs = references(req);
      const ns = req.namespace ?? "";
      const overlay: { -readonly [K in keyof RequestLookups]: RequestLookups[K] } = {};
      if (refs.storage && !cached.storageConnectionExists(refs.storage) && (await live.storageConnectionExists(refs.storage))) {
        const found = refs.storage;
        overlay.storageConnectionExists = (name) => name === found || cached.storageConnectionExists(name);
      }
      if (refs.policy && !cached.policyExists(ns, refs.policy) && (await live.policyExists(ns, refs.policy))) {
        const found = refs.policy;
        overlay.policyExists = (n, name) => (n === ns && name === found) || cached.policyExists(n, name);
      }
      if (refs.snapshot) {
        const answer = await live.snapshot(ns, refs.snapshot);
        overlay.snapshot = () => answer;
      }
      return overlay;
    },
  };
}

type SnapshotObject = { spec?: { policy?: string }; status?: { phase?: SnapshotFacts["phase"]; volumes?: { pvc?: string }[]; missingVolumes?: string[] } };

export function snapshotFacts(obj: SnapshotObject): SnapshotFacts {
  return {
    policy: obj.spec?.policy ?? "",
    phase: obj.status?.phase ?? "InProgress",
    pvcs: (obj.status?.volumes ?? []).flatMap((v) => (v.pvc ? [v.pvc] : [])),
    ...(obj.status?.missingVolumes ? { missingVolumes: obj.status.missingVolumes } : {}),
  };
}

/**
 * A 404 for the Snapshot itself (its name in the Status details) is "not found"; a 404 for the
 * whole group (the Snapshot API not registered) or any other failure is "unavailable".
 */
export function snapshotReadFailure(err: unknown, name: string): SnapshotAnswer {
  const e = err as { code?: number; body?: unknown };
  const body = typeof e.body === "string" ? safeJson(e.body) : e.body;
  const details = (body as { details?: { name?: string } } | undefined)?.details;
  if (e.code === 404 && details?.name === name) return { found: false };
  const why = e.code === 404 ? "404: the Snapshot API is not registered" : e.code ? String(e.code) : String(err);
  return { unavailable: `the Snapshot API answered ${why}` };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Live reads through the API: cache misses, and Snapshots through the aggregated API. */
export function apiLiveReads(client: KubeClient): LiveReads {
  const exists = async (path: string): Promise<boolean> => (await unlessNotFound(client.request<object>("GET", path))) !== undefined;
  const ns = (namespace: string): string => `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}`;
  return {
    storageConnectionExists: (name) => exists(`/apis/${GROUP}/${VERSION}/storageconnections/${encodeURIComponent(name)}`),
    policyExists: (namespace, name) => exists(`${ns(namespace)}/backuppolicies/${encodeURIComponent(name)}`),
    snapshot: async (namespace, name) => {
      try {
        const obj = await client.request<SnapshotObject>("GET", `/apis/${SNAPSHOT_GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/snapshots/${encodeURIComponent(name)}`);
        return { found: true, snapshot: snapshotFacts(obj) };
      } catch (err) {
        return snapshotReadFailure(err, name);
      }
    },
  };
}

export function cacheLookups(c: LookupCaches, now: () => Date): ValidationContext {
  return {
    storageConnectionExists: (name) => c.storage.get(name) !== undefined,
    policyExists: (namespace, name) => c.policies.get(name, namespace) !== undefined,
    workload: (namespace, kind: WorkloadKind, name) => {
      const obj = (kind === "Deployment" ? c.deployments : c.statefulsets).get(name, namespace);
      return obj ? { replicas: obj.spec?.replicas ?? 1 } : undefined;
    },
    now,
  };
}
