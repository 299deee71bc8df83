/**
 * Where a restic repository's files live. The reader needs only listing, reading and removing
 * files of the default layout (`config`, `keys/<id>`, `snapshots/<id>`, …).
 * @module
 */
import { close, open, read, readFile as readFileCallback } from "node:fs";
import { readdir, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { BackendNotFoundError, ResticRepoError, classifySystemError, describeCause } from "./errors.ts";

export const BACKEND_DIRS = ["keys", "snapshots", "locks", "index"] as const;
export type BackendDir = (typeof BACKEND_DIRS)[number];

/**
 * A repository's storage. `list` returns the file names (not paths) directly in a folder, `[]`
 * when the folder is absent; `read` and `remove` take a path relative to the repository root.
 * `read` throws BackendNotFoundError for a missing file; `remove` of a missing file succeeds.
 * Storage failures are ResticRepoError (BackendUnreachable, AccessDenied, RepositoryNotFound).
 */
export interface Backend {
  list(dir: BackendDir): Promise<string[]>;
  read(path: string): Promise<Uint8Array>;
  remove(path: string): Promise<void>;
  /** Names the repository in messages and cache keys, e.g. `local:/srv/backups/x`; never holds secrets. */
  describe(): string;
}

/** Rejects absolute paths and `.`/`..` segments: a backend only touches files under its root. */
export function checkRelativePath(backend: string, path: string): void {
  const segments = path.split("/");
  if (path === "" || segments.some((s) => s === "" || s === "." || s === "..")) {
    throw new RangeError(`restic repository ${backend}: path ${JSON.stringify(path)} must be relative, like "snapshots/<id>"`);
  }
}

/**
 * Marks a backend whose files are plain files under a directory: the reader may then read them
 * in its decode workers (synchronous reads there are far cheaper than libuv round trips).
 */
export const LOCAL_ROOT: unique symbol = Symbol("restic.localRoot");

export interface LocalBackend extends Backend {
  readonly [LOCAL_ROOT]: string;
}

/** The directory of a local backend, or undefined for any other backend (or a wrapper). */
export function localRootOf(backend: Backend): string | undefined {
  const root = (backend as Partial<LocalBackend>)[LOCAL_ROOT];
  return typeof root === "string" ? root : undefined;
}

/** A repository on a local or NFS-mounted path. */
export function localBackend(root: string): LocalBackend {
  const base = resolve(root);
  const name = `local:${base}`;
  const fail = (err: unknown, path: string): never => {
    throw localStorageError(err, name, path);
  };
  return {
    [LOCAL_ROOT]: base,
    describe: () => name,
    async list(dir) {
      try {
        return await readdir(join(base, dir));
      } catch (err) {
        if (classifySystemError(err) === "NotFound") return [];
        return fail(err, dir);
      }
    },
    async read(path) {
      checkRelativePath(name, path);
      try {
        return await readWholeFile(join(base, path));
      } catch (err) {
        return fail(err, path);
      }
    },
    async remove(path) {
      checkRelativePath(name, path);
      try {
        await unlink(join(base, path));
      } catch (err) {
        if (classifySystemError(err) !== "NotFound") fail(err, path);
      }
    },
  };
}

/** Most repository files (snapshots, keys, config) are far smaller than this. */
const FIRST_READ_BYTES = 16 * 1024;

/**
 * Reads a whole file with as few thread-pool round trips as possible: open, one read into a
 * buffer that usually holds it all, close without waiting. Larger files fall back to readFile.
 */
function readWholeFile(path: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    open(path, "r", (openErr, fd) => {
      if (openErr) return reject(openErr);
      const buf = Buffer.allocUnsafeSlow(FIRST_READ_BYTES);
      read(fd, buf, 0, FIRST_READ_BYTES, 0, (readErr, n) => {
        close(fd, () => undefined);
        if (readErr) reject(readErr);
        else if (n < FIRST_READ_BYTES) resolve(Buffer.from(buf.subarray(0, n)));
        else readFileCallback(path, (err, data) => (err ? reject(err) : resolve(data)));
      });
    });
  });
}

/** Maps a file-system error to the reader's errors (BackendNotFoundError, AccessDenied, BackendUnreachable). */
export function localStorageError(err: unknown, backend: string, path: string): Error {
  switch (classifySystemError(err)) {
    case "NotFound":
      return new BackendNotFoundError(backend, path, err);
    case "Denied":
      return new ResticRepoError({
        code: "AccessDenied",
        repository: backend,
        file: path,
        detail: `permission denied (${describeCause(err)}); the process needs read access to the repository (and write access to remove snapshots)`,
        cause: err,
      });
    case "Unreachable":
      return new ResticRepoError({
        code: "BackendUnreachable",
        repository: backend,
        file: path,
        detail: `storage is not reachable (${describeCause(err)}); check that the path or NFS mount is available`,
        cause: err,
      });
    default:
      // Not the storage as a whole (e.g. a folder where a file should be): this one file is unusable.
      return new ResticRepoError({
        code: "CorruptFile",
        repository: backend,
        file: path,
        detail: `cannot be read as a file (${describeCause(err)})`,
        cause: err,
      });
  }
}
