/**
 * Real-shaped AdmissionReview v1 bodies, shared by the tests, the fuzzer and the benchmark.
 * @module
 */
import { GROUP, VERSION } from "../api/index.ts";

export const KIND_RESOURCES = {
  StorageConnection: "storageconnections",
  BackupPolicy: "backuppolicies",
  BackupRun: "backupruns",
  RestoreRun: "restoreruns",
} as const;

export interface ReviewOptions {
  readonly uid?: string;
  readonly kind?: keyof typeof KIND_RESOURCES;
  readonly operation?: "CREATE" | "UPDATE" | "DELETE";
  readonly object?: unknown;
  readonly oldObject?: unknown;
  readonly namespace?: string;
  readonly dryRun?: boolean;
}

export function policyObject(spec: Record<string, unknown> = {}, name = "pw-backup-app"): Record<string, unknown> {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: "BackupPolicy",
    metadata: { name, namespace: "team-a" },
    spec: { workloadRef: { kind: "Deployment", name: "app" }, storageRef: { name: "nas" }, ...spec },
  };
}

export function review(opts: ReviewOptions = {}): Record<string, unknown> {
  const kind = opts.kind ?? "BackupPolicy";
  const object = opts.object === undefined ? policyObject() : opts.object;
  const gvr = { group: GROUP, version: VERSION, resource: KIND_RESOURCES[kind] };
  const gvk = { group: GROUP, version: VERSION, kind };
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: opts.uid ?? "705ab4f5-6393-11e8-b7cc-42010a800002",
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      name: (object as { metadata?: { name?: string } } | null)?.metadata?.name ?? "",
      namespace: opts.namespace ?? "team-a",
      operation: opts.operation ?? "CREATE",
      userInfo: { username: "alice", uid: "u-1", groups: ["system:authenticated"] },
      object,
      oldObject: opts.oldObject ?? null,
      dryRun: opts.dryRun ?? false,
      options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
    },
  };
}
