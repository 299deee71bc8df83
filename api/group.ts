/**
 * Names of the API: groups, versions, kinds, labels and restic tags. Everything that another
 * part of the product must spell the same way lives here.
 * @module
 */

export const GROUP = "backup.podwarden.io" as const;
export const VERSION = "v1alpha1" as const;
export const API_VERSION = `${GROUP}/${VERSION}` as const;

/** The aggregated (virtual) API that serves Snapshots. */
export const SNAPSHOT_GROUP = "snapshots.backup.podwarden.io" as const;
export const SNAPSHOT_API_VERSION = `${SNAPSHOT_GROUP}/${VERSION}` as const;

export const KINDS = ["StorageConnection", "BackupPolicy", "BackupRun", "RestoreRun"] as const;
export type Kind = (typeof KINDS)[number];

export const CATEGORY = "podwarden" as const;

/** Names users type, fixed by the product description. */
export const SYSTEM_NAMESPACE = "podwarden-system" as const;
/** The Secret of SYSTEM_NAMESPACE where the Snapshot API keeps unlocked repository keys for its next pods (apiserver/key-secret.ts). */
export const KEY_SECRET = "podwarden-snapshot-keys" as const;
export const OPERATOR_DEPLOYMENT = "backup-operator" as const;
export const BACKUP_SERVICE_ACCOUNT = "podwarden-backup" as const;
export const PASSWORD_SECRET_PREFIX = "pw-backup-" as const;

/** Labels on Snapshots and on the Jobs and Pods the controller creates. */
export const LABELS = {
  policy: `${GROUP}/policy`,
  run: `${GROUP}/run`,
  pvc: `${GROUP}/pvc`,
  component: `${GROUP}/component`,
} as const;

/** Annotations the product reads or writes. */
export const ANNOTATIONS = {
  runNow: `${GROUP}/run-now`,
  originalReplicas: `${GROUP}/original-replicas`,
} as const;

/** restic tags written on every snapshot: `policy=<name>`, `run=<name>`, `pvc=<name>`. */
export const RESTIC_TAG_KEYS = ["policy", "run", "pvc"] as const;
export type ResticTagKey = (typeof RESTIC_TAG_KEYS)[number];
