/**
 * Kubernetes side of the Snapshot index: watch-backed caches of BackupPolicies,
 * StorageConnections and BackupRuns, Secret reads (cached briefly), the RunStatusLookup, the
 * refresh triggers (a run's status changed, a policy appeared or went away), and the
 * server-side apply of a policy's SnapshotsAvailable condition.
 * @module
 */
import { API_VERSION, GROUP, VERSION } from "../api/group.ts";
import type { Condition } from "../api/meta.ts";
import { startCache } from "../kube/informer.ts";
import type { Cache, KubernetesObject } from "../kube/informer.ts";
import { unlessNotFound } from "../kube/rest.ts";
import type { KubeClient } from "../kube/rest.ts";
import type { Logger } from "../kube/log.ts";
import { CONDITION_FIELD_MANAGER } from "./policy-conditions.ts";
import type { PolicyView } from "./policy-conditions.ts";
import type { PolicyLike, StorageLike } from "./repo-sources.ts";
import { createTtlCache } from "./ttl-cache.ts";
import { RUN_PHASES } from "./types.ts";
import type { Clock, PolicyRef, RunInfo, RunPhase, RunStatusLookup, RunVolumeInfo } from "./types.ts";

type PolicyObject = KubernetesObject & PolicyLike & PolicyView;
type StorageObject = KubernetesObject & StorageLike;

/** The fields of a BackupRun the index reads. */
export type RunObject = KubernetesObject & {
  readonly spec?: { readonly policyRef?: { readonly name?: string } };
  readonly status?: { readonly phase?: string; readonly volumes?: readonly (Partial<RunVolumeInfo> & { readonly phase?: string })[] };
};

export interface KubeCaches {
  readonly policies: Cache<PolicyObject>;
  readonly storage: Cache<StorageObject>;
  readonly runs: Cache<RunObject>;
  readonly synced: Promise<void>;
  stop(): Promise<void>;
}

export function startKubeCaches(client: KubeClient, log: Logger): KubeCaches {
  const base = `/apis/${GROUP}/${VERSION}`;
  const policies = startCache<PolicyObject>(client, { path: `${base}/backuppolicies` }, log);
  const storage = startCache<StorageObject>(client, { path: `${base}/storageconnections` }, log);
  const runs = startCache<RunObject>(client, { path: `${base}/backupruns` }, log);
  return {
    policies,
    storage,
    runs,
    synced: Promise.all([policies.synced, storage.synced, runs.synced]).then(() => undefined),
    stop: async () => {
      await Promise.all([policies.stop(), storage.stop(), runs.stop()]);
    },
  };
}

function isRunPhase(p: string | undefined): p is RunPhase {
  return (RUN_PHASES as readonly string[]).includes(p ?? "");
}

/** A BackupRun's status as the grouping reads it. */
export function runInfoOf(run: RunObject): RunInfo {
  const phase = run.status?.phase;
  const volumes = (run.status?.volumes ?? [])
    .filter((v) => typeof v.pvc === "string" && v.pvc !== "")
    .map((v) => {
      const { phase: _phase, ...rest } = v;
      return rest as RunVolumeInfo;
    });
  return { ...(isRunPhase(phase) ? { phase } : {}), volumes };
}

/** Answers from the cache once its first list is in (the index may start before that). */
export function cachedRunLookup(runs: Cache<RunObject>): RunStatusLookup {
  return {
    async runs(policy: PolicyRef) {
      await runs.synced;
      const out = new Map<string, RunInfo>();
      for (const run of runs.list(policy.namespace)) {
        if (run.spec?.policyRef?.name === policy.name && run.metadata?.name) out.set(run.metadata.name, runInfoOf(run));
      }
      return out;
    },
  };
}

/** What makes a run's snapshots look different: its phase and its volumes' snapshot IDs. */
function runSignature(run: RunObject): string {
  return JSON.stringify([run.status?.phase ?? "", (run.status?.volumes ?? []).map((v) => [v.pvc, v.snapshotId ?? "", v.phase ?? ""])]);
}

/**
 * Calls `refresh(namespace/policy)` when a run's phase or volume snapshots change (so a new
 * snapshot shows within moments of its run completing), when a policy appears, goes or changes
 * its spec, and when the spec of the StorageConnection it uses changes.
 */
export function wireRefreshTriggers(caches: KubeCaches, refresh: (policyKey: string) => void): void {
  wireRunTrigger(caches, refresh);
  wirePolicyTriggers(caches, refresh);
}

/** What an object that is gone is remembered as. */
const GONE = "\u0000gone";

/**
 * Calls `cb(obj)` when an object of `cache` appears, goes, or changes its `signature`; other
 * updates (e.g. status-only ones) call nothing. Objects `relevant` refuses are ignored.
 */
function onSignatureChange<T extends KubernetesObject>(cache: Cache<T>, o: { readonly signature: (current: T) => string; readonly relevant?: (obj: T) => boolean }, cb: (obj: T) => void): void {
  const seen = new Map<string, string>();
  cache.onChange((obj) => {
    const name = obj.metadata?.name;
    if (!name || o.relevant?.(obj) === false) return;
    const key = `${obj.metadata?.namespace ?? ""}/${name}`;
    const current = cache.get(name, obj.metadata?.namespace);
    const sig = current === undefined ? GONE : o.signature(current);
    if (seen.get(key) === sig) return;
    if (current === undefined) seen.delete(key);
    else seen.set(key, sig);
    cb(obj);
  });
}

/** A spec change: status-only updates (the controller's, our own conditions) leave it as it is. */
const specGeneration = (obj: KubernetesObject): string => String(obj.metadata?.generation ?? 0);

/** The policy and StorageConnection triggers of {@link wireRefreshTriggers}. */
export function wirePolicyTriggers(caches: Pick<KubeCaches, "policies" | "storage">, refresh: (policyKey: string) => void): void {
  onSignatureChange(caches.policies, { signature: specGeneration, relevant: (p) => !!p.metadata?.namespace }, (p) => refresh(`${p.metadata?.namespace}/${p.metadata?.name}`));
  // A StorageConnection that appears, goes, or changes its spec refreshes the policies that use
  // it, so a fixed endpoint or bucket clears their degraded state at once.
  onSignatureChange(caches.storage, { signature: specGeneration }, (sc) => {
    for (const key of policiesUsing(caches, sc.metadata?.name ?? "")) refresh(key);
  });
}

/** The BackupRun trigger of {@link wireRefreshTriggers}: a run's phase or volume snapshots changed. */
export function wireRunTrigger(caches: Pick<KubeCaches, "runs">, refresh: (policyKey: string) => void): void {
  onSignatureChange(caches.runs, { signature: runSignature, relevant: (r) => !!r.metadata?.namespace && !!r.spec?.policyRef?.name }, (r) => refresh(`${r.metadata?.namespace}/${r.spec?.policyRef?.name}`));
}

function policiesUsing(caches: Pick<KubeCaches, "policies">, storage: string): string[] {
  return caches.policies.list().flatMap((p) => (p.spec?.storageRef?.name === storage && p.metadata?.namespace && p.metadata.name ? [`${p.metadata.namespace}/${p.metadata.name}`] : []));
}

export interface SecretReaderOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly ttlMs?: number;
}

/** Reads a Secret's decoded data (undefined when absent), cached for `ttlMs` (default 30 s). */
export function secretReader(opts: SecretReaderOptions): (namespace: string, name: string) => Promise<Readonly<Record<string, string>> | undefined> {
  const cache = createTtlCache<Readonly<Record<string, string>>>({ clock: opts.clock, ttlMs: opts.ttlMs ?? 30_000, maxEntries: 5000 });
  return async (namespace, name) => {
    const key = `${namespace}/${name}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const secret = await unlessNotFound(opts.client.request<{ data?: Record<string, string> }>("GET", `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`));
    // A missing Secret is not remembered: it is usually about to be created (with its policy).
    if (secret === undefined) return undefined;
    const data = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
    cache.set(key, data);
    return data;
  };
}

export function storageLookup(storage: Cache<StorageObject>): (name: string) => StorageLike | undefined {
  return (name) => storage.get(name);
}

/**
 * Writes one condition into a BackupPolicy's `status.conditions` by server-side apply on the
 * status subresource (field manager podwarden-snapshots-api; conditions merge by type, so the
 * controller's own conditions are untouched). A policy that is gone is not an error. Needs RBAC
 * `patch` on `backuppolicies/status`.
 */
export function policyConditionApplier(client: KubeClient): (ref: PolicyRef, condition: Condition) => Promise<void> {
  return async (ref, condition) => {
    const body = { apiVersion: API_VERSION, kind: "BackupPolicy", metadata: { name: ref.name, namespace: ref.namespace }, status: { conditions: [condition] } };
    const path = `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(ref.namespace)}/backuppolicies/${encodeURIComponent(ref.name)}/status`;
    // JSON is YAML: the apply body goes as application/apply-patch+yaml.
    await unlessNotFound(client.request("PATCH", path, { body, contentType: "application/apply-patch+yaml", query: { fieldManager: CONDITION_FIELD_MANAGER, force: true } }));
  };
}
