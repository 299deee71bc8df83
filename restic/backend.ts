/**
 * Where a restic repository's files live. The reader needs only listing, reading and removing
 * files of the default layout (`config`, `keys/<id>`, `snapshots/<id>`, …).
 * @module
 */
import { readFile as readFileCallback } from "node:fs";
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

/** A repository on a local or NFS-mounted path. */
export function localBackend(root: string): Backend {
  const base = resolve(root);
  const name = `local:${base}`;
  const fail = (err: unknown, path: string): never => {
    throw mapLocalError(err, name, path);
  };
  return {
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

/** fs.readFile with a callback: several times cheaper per small file than the FileHandle-based promise API. */
function readWholeFile(path: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => readFileCallback(path, (err, data) => (err ? reject(err) : resolve(data))));
}

function mapLocalError(err: unknown, backend: string, path: string): Error {
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
      return err instanceof Error ? err : new Error(String(err));
  }
}
