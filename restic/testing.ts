/**
 * Helpers for tests and benchmarks (not used by the product): an in-memory backend, a backend
 * wrapper that records reads, and a writer that seals snapshot files exactly as restic does.
 * @module
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Backend, BackendDir } from "./backend.ts";
import { checkRelativePath } from "./backend.ts";
import type { CryptoKey } from "./crypto.ts";
import { encrypt } from "./crypto.ts";
import { BackendNotFoundError } from "./errors.ts";
import { sha256Hex } from "./load.ts";
import type { RepoVersion } from "./unpacked.ts";
import { encodeUnpacked } from "./unpacked.ts";

/** A backend over a map of `path → bytes` (paths like `config`, `snapshots/<id>`). */
export function memoryBackend(files: Map<string, Uint8Array>, name = "memory:test"): Backend {
  return {
    describe: () => name,
    list: async (dir: BackendDir) =>
      [...files.keys()].filter((p) => p.startsWith(`${dir}/`)).map((p) => p.slice(dir.length + 1)),
    async read(path) {
      checkRelativePath(name, path);
      const bytes = files.get(path);
      if (bytes === undefined) throw new BackendNotFoundError(name, path);
      return bytes;
    },
    async remove(path) {
      checkRelativePath(name, path);
      files.delete(path);
    },
  };
}

export interface CountingBackend extends Backend {
  /** Every path read, in order. */
  readonly reads: string[];
  /** Every folder listed, in order. */
  readonly lists: BackendDir[];
}

/** Wraps a backend and records its reads and lists, to check what the cache saves. */
export function countingBackend(inner: Backend): CountingBackend {
  const reads: string[] = [];
  const lists: BackendDir[] = [];
  return {
    reads,
    lists,
    describe: () => inner.describe(),
    list: (dir) => {
      lists.push(dir);
      return inner.list(dir);
    },
    read: (path) => {
      reads.push(path);
      return inner.read(path);
    },
    remove: (path) => inner.remove(path),
  };
}

/** Seals a snapshot document as restic stores it; the ID is the SHA-256 of the stored bytes. */
export function sealSnapshot(key: CryptoKey, version: RepoVersion, doc: unknown): { id: string; bytes: Uint8Array } {
  const bytes = encrypt(key, encodeUnpacked(Buffer.from(JSON.stringify(doc), "utf8"), version));
  return { id: sha256Hex(bytes), bytes };
}

export interface WriteSnapshotsOptions {
  /** Root of a local repository. */
  readonly root: string;
  readonly key: CryptoKey;
  readonly version: RepoVersion;
  readonly docs: readonly unknown[];
}

/** Writes sealed snapshot files into a local repository (temp name, then rename, as restic does); returns their IDs. */
export async function writeSnapshotFiles(opts: WriteSnapshotsOptions): Promise<string[]> {
  const dir = join(opts.root, "snapshots");
  await mkdir(dir, { recursive: true });
  const ids: string[] = [];
  for (const doc of opts.docs) {
    const { id, bytes } = sealSnapshot(opts.key, opts.version, doc);
    const tmp = join(dir, `${id}-tmp-fixture`);
    await writeFile(tmp, bytes, { mode: 0o400 });
    await rename(tmp, join(dir, id));
    ids.push(id);
  }
  return ids;
}
