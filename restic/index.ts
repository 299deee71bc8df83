/**
 * The native restic repository reader: open a repository on a local/NFS path or S3, list its
 * snapshots (cached by ID), forget one. Importing this module loads the S3 SDK; code that needs
 * only local repositories may import `repository.ts` and `backend.ts` directly.
 * @module
 */
export type { Backend, BackendDir, LocalBackend } from "./backend.ts";
export { BACKEND_DIRS, localBackend } from "./backend.ts";
export type { S3Backend, S3BackendOptions } from "./s3.ts";
export { s3Backend } from "./s3.ts";
export type { ResticErrorCode } from "./errors.ts";
export { RESTIC_ERROR_CODES, ResticRepoError, isResticRepoError } from "./errors.ts";
export type { KeyCache, ListResult, OpenRepositoryOptions, Repository, SnapshotCache, SnapshotFileError } from "./repository.ts";
export { openRepository } from "./repository.ts";
export type { DecodePool } from "./decode-pool.ts";
export { createDecodePool } from "./decode-pool.ts";
export type { ResticSnapshot, SnapshotSummary } from "./snapshot.ts";
export { compareSnapshots } from "./snapshot.ts";
export type { ParsedTags } from "./tags.ts";
export { formatTags, parseTags } from "./tags.ts";
