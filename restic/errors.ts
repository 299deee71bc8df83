/**
 * Errors of the native restic reader: one class with a closed set of codes, each message
 * naming the repository (its backend description, never a password or key).
 * @module
 */

export const RESTIC_ERROR_CODES = [
  "WrongPassword",
  "RepositoryNotFound",
  "BackendUnreachable",
  "AccessDenied",
  "CorruptFile",
  "UnsupportedVersion",
] as const;
export type ResticErrorCode = (typeof RESTIC_ERROR_CODES)[number];

export interface ResticRepoErrorOptions {
  readonly code: ResticErrorCode;
  /** The repository, as `Backend.describe()` prints it. */
  readonly repository: string;
  /** What went wrong and what would be accepted; the repository is prefixed to it. */
  readonly detail: string;
  /** The file inside the repository, when one file is at fault (e.g. `snapshots/<id>`). */
  readonly file?: string;
  readonly cause?: unknown;
}

/** The one error the reader throws for repository problems; `code` says which kind. */
export class ResticRepoError extends Error {
  override readonly name = "ResticRepoError";
  readonly code: ResticErrorCode;
  readonly repository: string;
  readonly file: string | undefined;

  constructor(opts: ResticRepoErrorOptions) {
    const where = opts.file === undefined ? "" : ` (file ${opts.file})`;
    super(`restic repository ${opts.repository}${where}: ${opts.detail}`, { cause: opts.cause });
    this.code = opts.code;
    this.repository = opts.repository;
    this.file = opts.file;
  }
}

export function isResticRepoError(err: unknown, code?: ResticErrorCode): err is ResticRepoError {
  return err instanceof ResticRepoError && (code === undefined || err.code === code);
}

/**
 * A backend's "this file does not exist". Not a repository error by itself: the repository
 * turns a missing `config` into RepositoryNotFound and a vanished snapshot into nothing.
 */
export class BackendNotFoundError extends Error {
  override readonly name = "BackendNotFoundError";
  readonly path: string;

  constructor(backend: string, path: string, cause?: unknown) {
    super(`restic repository ${backend}: file ${path} does not exist`, { cause });
    this.path = path;
  }
}

/** Node system error codes that mean "the storage cannot be reached right now". */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EPIPE",
  "ESTALE",
  "EIO",
  "ENOTCONN",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);

const DENIED_CODES = new Set(["EACCES", "EPERM", "EROFS"]);

export type SystemErrorKind = "NotFound" | "Unreachable" | "Denied" | "Other";

/** Classifies a Node system error (fs or socket) by its `code`. */
export function classifySystemError(err: unknown): SystemErrorKind {
  const code = errorCode(err);
  if (code === undefined) return "Other";
  if (code === "ENOENT" || code === "ENOTDIR") return "NotFound";
  if (UNREACHABLE_CODES.has(code)) return "Unreachable";
  if (DENIED_CODES.has(code)) return "Denied";
  return "Other";
}

/** The `code` of an error, also when it is wrapped in `cause` or an AggregateError. */
export function errorCode(err: unknown, depth = 0): string | undefined {
  if (typeof err !== "object" || err === null || depth > 4) return undefined;
  const rec = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof rec.code === "string") return rec.code;
  if (Array.isArray(rec.errors) && rec.errors.length > 0) return errorCode(rec.errors[0], depth + 1);
  return errorCode(rec.cause, depth + 1);
}

/** A short, secret-free description of an unknown error for messages. */
export function describeCause(err: unknown): string {
  if (err instanceof Error) {
    const code = errorCode(err);
    const msg = err.message === "" ? err.name : err.message;
    return code === undefined || msg.includes(code) ? msg : `${code}: ${msg}`;
  }
  return String(err);
}
