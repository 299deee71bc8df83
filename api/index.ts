/**
 * The API module: types, schemas, defaults, validation and names. It imports nothing else of ours.
 * @module
 */
export * from "./group.ts";
export * from "./meta.ts";
export * from "./storageconnection.ts";
export * from "./backuppolicy.ts";
export * from "./backuprun.ts";
export * from "./restorerun.ts";
export * from "./kinds.ts";
export * from "./field-errors.ts";
export * from "./defaults.ts";
export * from "./cron.ts";
export type { ValidationContext, Workload } from "./validate/common.ts";
export { validateStorageConnection } from "./validate/storageconnection.ts";
export { validateBackupPolicy } from "./validate/backuppolicy.ts";
export { validateBackupRun, validateRestoreRun } from "./validate/runs.ts";
export type { SnapshotCheck } from "./validate/runs.ts";
export { restoreSnapshotErrors } from "./validate/restore-snapshot.ts";
export type { SnapshotAnswer, SnapshotFacts, RestoreTarget } from "./validate/restore-snapshot.ts";
