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
