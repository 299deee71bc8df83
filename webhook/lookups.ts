/**
 * The lookups validation needs, answered from watch-backed caches (never one API call per
 * review): StorageConnections, BackupPolicies, Deployments and StatefulSets.
 * @module
 */
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import type { ValidationContext, WorkloadKind } from "../api/index.ts";
import { API_VERSION, GROUP, VERSION } from "../api/index.ts";
import type { Cache } from "../kube/informer.ts";
import { startCache } from "../kube/informer.ts";
import { objectApi } from "../kube/client.ts";
import type { AdmissionRequest } from "./review.ts";
import type { Logger } from "../kube/log.ts";

type Scalable = KubernetesObject & { spec?: { replicas?: number } };

export interface LookupCaches {
  readonly storage: Cache<KubernetesObject>;
  readonly policies: Cache<KubernetesObject>;
  readonly deployments: Cache<Scalable>;
  readonly statefulsets: Cache<Scalable>;
}

export function startLookupCaches(kc: KubeConfig, log: Logger): LookupCaches {
  return {
    storage: startCache(kc, { apiVersion: API_VERSION, kind: "StorageConnection", path: `/apis/${GROUP}/${VERSION}/storageconnections` }, log),
    policies: startCache(kc, { apiVersion: API_VERSION, kind: "BackupPolicy", path: `/apis/${GROUP}/${VERSION}/backuppolicies` }, log),
    deployments: startCache(kc, { apiVersion: "apps/v1", kind: "Deployment", path: "/apis/apps/v1/deployments" }, log),
    statefulsets: startCache(kc, { apiVersion: "apps/v1", kind: "StatefulSet", path: "/apis/apps/v1/statefulsets" }, log),
  };
}

export async function cachesSynced(c: LookupCaches): Promise<void> {
  await Promise.all([c.storage.synced, c.policies.synced, c.deployments.synced, c.statefulsets.synced]);
}

/** Live reads, used only when the cache misses (an object created a moment ago). */
export interface LiveReads {
  readonly storageConnectionExists: (name: string) => Promise<boolean>;
  readonly policyExists: (namespace: string, name: string) => Promise<boolean>;
}

export interface Lookups {
  readonly context: ValidationContext;
  /** Before validating: confirms, with one live read, references the cache does not know yet. */
  readonly confirm: (req: AdmissionRequest) => Promise<void>;
}

const CONFIRMED_TTL_MS = 30_000;

/** The object's referenced names, for the references the validators check. */
function references(req: AdmissionRequest): { storage?: string; policy?: string } {
  const spec = (req.object?.["spec"] ?? {}) as { storageRef?: { name?: unknown }; policyRef?: { name?: unknown } };
  const name = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
  if (req.operation !== "CREATE") return {};
  if (req.kind.kind === "BackupPolicy") return { storage: name(spec.storageRef?.name) };
  if (req.kind.kind === "BackupRun" || req.kind.kind === "RestoreRun") return { policy: name(spec.policyRef?.name) };
  return {};
}

/**
 * Lookups from the caches. A StorageConnection or policy created a moment before the object
 * that names it (one `kubectl apply -f dir/`) may not have reached the watch yet: such a miss
 * is confirmed with one live read and remembered briefly, so it is never wrongly denied.
 */
export function createLookups(c: LookupCaches, live: LiveReads, now: () => Date): Lookups {
  const confirmed = new Map<string, number>();
  const known = (key: string): boolean => (confirmed.get(key) ?? 0) > now().getTime();
  const remember = (key: string, exists: boolean): void => void (exists && confirmed.set(key, now().getTime() + CONFIRMED_TTL_MS));
  const context = cacheLookups(c, now);
  return {
    context: {
      ...context,
      storageConnectionExists: (name) => context.storageConnectionExists(name) || known(`sc/${name}`),
      policyExists: (ns, name) => context.policyExists(ns, name) || known(`bp/${ns}/${name}`),
    },
    confirm: async (req) => {
      const refs = references(req);
      if (refs.storage && !context.storageConnectionExists(refs.storage)) remember(`sc/${refs.storage}`, await live.storageConnectionExists(refs.storage));
      const ns = req.namespace ?? "";
      if (refs.policy && !context.policyExists(ns, refs.policy)) remember(`bp/${ns}/${refs.policy}`, await live.policyExists(ns, refs.policy));
      for (const [key, until] of confirmed) if (until <= now().getTime()) confirmed.delete(key);
    },
  };
}

/** Live reads through the API, for cache misses only. */
export function apiLiveReads(kc: KubeConfig): LiveReads {
  const api = objectApi(kc);
  const exists = async (spec: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): Promise<boolean> => {
    try {
      await api.read(spec);
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return false;
      throw err;
    }
  };
  return {
    storageConnectionExists: (name) => exists({ apiVersion: API_VERSION, kind: "StorageConnection", metadata: { name } }),
    policyExists: (namespace, name) => exists({ apiVersion: API_VERSION, kind: "BackupPolicy", metadata: { name, namespace } }),
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
