/**
 * A restic repository opened for listing and forgetting snapshots, natively: no restic process,
 * no lock, no index. The master key is derived once per repository and password; snapshots are
 * cached by ID (a file's ID is the hash of its bytes, so a cached entry is never stale).
 * @module
 */
import { createHmac, randomBytes } from "node:crypto";
import type { Logger } from "../kube/log.ts";
import type { Backend } from "./backend.ts";
import type { CryptoKey } from "./crypto.ts";
import { DecryptError, decrypt } from "./crypto.ts";
import { BackendNotFoundError, ResticRepoError } from "./errors.ts";
import { findMasterKey } from "./keys.ts";
import type { DecodePool } from "./decode-pool.ts";
import { createDecodePool, defaultPoolSize } from "./decode-pool.ts";
import type { SnapshotFileError } from "./load.ts";
import { loadSnapshots } from "./loader.ts";
import type { ResticSnapshot } from "./snapshot.ts";
import { ID_PATTERN, compareSnapshots } from "./snapshot.ts";
import type { RepoVersion } from "./unpacked.ts";

export type { SnapshotFileError };

/** Master keys by repository and password digest; a Map works. Values are promises so concurrent opens share one scrypt. */
export interface KeyCache {
  get(key: string): Promise<CryptoKey> | undefined;
  set(key: string, value: Promise<CryptoKey>): unknown;
  delete(key: string): unknown;
}

/** Parsed snapshots by ID, for **one** repository (entries no longer listed are evicted); a Map works. */
export interface SnapshotCache {
  get(id: string): ResticSnapshot | undefined;
  set(id: string, snapshot: ResticSnapshot): unknown;
  delete(id: string): unknown;
  keys(): Iterable<string>;
}

export interface OpenRepositoryOptions {
  readonly backend: Backend;
  readonly password: string;
  readonly keyCache?: KeyCache;
  readonly snapshotCache?: SnapshotCache;
  /** Snapshot files read at once (default 16). */
  readonly concurrency?: number;
  /** Decodes large listings off the main thread; default: a process-wide pool; `null`: always inline. */
  readonly decodePool?: DecodePool | null;
  readonly log?: Logger;
}

export interface ListResult {
  /** Oldest first, like `restic snapshots`. */
  readonly snapshots: ResticSnapshot[];
  /** Listed snapshot files that are damaged or do not decrypt, by ID; skipped, as restic skips them. */
  readonly errors: SnapshotFileError[];
}

export interface Repository {
  /** `config.id`: stable for the repository's life. */
  readonly id: string;
  readonly version: RepoVersion;
  /** The backend description, for messages. */
  readonly location: string;
  listSnapshots(): Promise<ListResult>;
  /** Removes `snapshots/<id>` (restic forget without --prune); forgetting an absent snapshot succeeds. */
  forgetSnapshot(id: string): Promise<void>;
}

/** Process-wide secret so key-cache entries hold no plain password digest. */
const CACHE_PEPPER = randomBytes(32);
const defaultKeyCache: KeyCache = new Map<string, Promise<CryptoKey>>();

export function keyCacheKey(backend: Backend, password: string): string {
  const digest = createHmac("sha256", CACHE_PEPPER).update(password, "utf8").digest("hex");
  return `${backend.describe()}\n${digest}`;
}

/** Opens a repository: reads `config`, finds the master key (cached), checks the version. */
export async function openRepository(opts: OpenRepositoryOptions): Promise<Repository> {
  const repository = opts.backend.describe();
  const sealedConfig = await readConfig(opts.backend);
  const pool = opts.decodePool === null ? undefined : (opts.decodePool ?? defaultPool());
  const { key, config } = await unlock(opts, sealedConfig);
  const { id, version } = parseConfig(repository, config);
  opts.log?.debug({ repository, repositoryId: id, version }, "restic repository opened");
  return createRepository({ ...opts, key, id, version, pool });
}

async function readConfig(backend: Backend): Promise<Uint8Array> {
  try {
    return await backend.read("config");
  } catch (err) {
    if (!(err instanceof BackendNotFoundError)) throw err;
    throw new ResticRepoError({
      code: "RepositoryNotFound",
      repository: backend.describe(),
      detail: "no repository here (file config is missing); check the path or bucket and prefix, or initialise it with restic init",
      cause: err,
    });
  }
}

/** Uses the cached master key when it still opens `config` (a re-initialised repository invalidates it). */
async function unlock(opts: OpenRepositoryOptions, sealedConfig: Uint8Array): Promise<{ key: CryptoKey; config: Uint8Array }> {
  const cache = opts.keyCache ?? defaultKeyCache;
  const cacheKey = keyCacheKey(opts.backend, opts.password);
  const cached = cache.get(cacheKey);
  if (cached !== undefined) {
    const key = await cached.catch(() => undefined);
    const config = key === undefined ? undefined : tryDecrypt(key, sealedConfig);
    if (key !== undefined && config !== undefined) return { key, config };
    if (cache.get(cacheKey) === cached) cache.delete(cacheKey);
  }
  const pending = findMasterKey({ backend: opts.backend, password: opts.password });
  cache.set(cacheKey, pending);
  pending.catch(() => {
    if (cache.get(cacheKey) === pending) cache.delete(cacheKey);
  });
  const key = await pending;
  const config = tryDecrypt(key, sealedConfig);
  if (config === undefined) {
    throw new ResticRepoError({
      code: "CorruptFile",
      repository: opts.backend.describe(),
      file: "config",
      detail: "config does not decrypt with the master key of the key file; the repository is damaged",
    });
  }
  return { key, config };
}

function tryDecrypt(key: CryptoKey, sealed: Uint8Array): Uint8Array | undefined {
  try {
    return decrypt(key, sealed);
  } catch (err) {
    if (err instanceof DecryptError) return undefined;
    throw err;
  }
}

/** `config` is JSON, never compressed: `{"version":1|2,"id":"<hex>","chunker_polynomial":"<hex>"}`. */
export function parseConfig(repository: string, plaintext: Uint8Array): { id: string; version: RepoVersion } {
  let doc: { version?: unknown; id?: unknown };
  try {
    doc = JSON.parse(Buffer.from(plaintext).toString("utf8")) as typeof doc;
  } catch {
    throw new ResticRepoError({ code: "CorruptFile", repository, file: "config", detail: "decrypted config is not JSON" });
  }
  if (doc.version !== 1 && doc.version !== 2) {
    throw new ResticRepoError({
      code: "UnsupportedVersion",
      repository,
      file: "config",
      detail: `repository version ${JSON.stringify(doc.version)} is not supported; versions 1 and 2 are`,
    });
  }
  if (typeof doc.id !== "string" || !/^[0-9a-f]+$/.test(doc.id)) {
    throw new ResticRepoError({ code: "CorruptFile", repository, file: "config", detail: "config id must be a hex string" });
  }
  return { id: doc.id, version: doc.version };
}

interface RepositoryState extends OpenRepositoryOptions {
  readonly key: CryptoKey;
  readonly id: string;
  readonly version: RepoVersion;
  readonly pool: DecodePool | undefined;
}

const DEFAULT_CONCURRENCY = 16;

let sharedPool: DecodePool | undefined;

/** The process-wide decode pool, started on first use. */
function defaultPool(): DecodePool {
  sharedPool ??= createDecodePool({ size: defaultPoolSize() });
  return sharedPool;
}

function createRepository(state: RepositoryState): Repository {
  const cache: SnapshotCache = state.snapshotCache ?? new Map<string, ResticSnapshot>();
  const location = state.backend.describe();
  const load = {
    backend: state.backend,
    ctx: { repository: location, key: state.key, version: state.version },
    concurrency: state.concurrency ?? DEFAULT_CONCURRENCY,
    pool: state.pool,
  };
  /** Listings run one at a time, so overlapping callers find the first one's results cached. */
  let queue: Promise<unknown> = Promise.resolve();

  const list = async (): Promise<ListResult> => {
    const ids = (await state.backend.list("snapshots")).filter((n) => ID_PATTERN.test(n));
    const missing = ids.filter((id) => cache.get(id) === undefined);
    const loaded = await loadSnapshots(load, missing);
    for (const s of loaded.snapshots) cache.set(s.id, s);
    evict(cache, new Set(ids));
    for (const e of loaded.errors) state.log?.warn({ repository: location, snapshot: e.id, code: e.code }, "restic snapshot file skipped");
    const snapshots = ids.map((id) => cache.get(id)).filter((s) => s !== undefined);
    const errors = loaded.errors.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { snapshots: snapshots.sort(compareSnapshots), errors };
  };

  return {
    id: state.id,
    version: state.version,
    location,
    listSnapshots() {
      const run = queue.then(list, list);
      queue = run.catch(() => undefined);
      return run;
    },
    async forgetSnapshot(id) {
      if (!ID_PATTERN.test(id)) {
        throw new RangeError(`restic repository ${location}: snapshot id ${JSON.stringify(id)} must be the full 64-character lowercase hex ID`);
      }
      await state.backend.remove(`snapshots/${id}`);
      cache.delete(id);
      state.log?.info({ repository: location, snapshot: id }, "restic snapshot forgotten");
    },
  };
}

function evict(cache: SnapshotCache, listed: ReadonlySet<string>): void {
  for (const id of [...cache.keys()]) if (!listed.has(id)) cache.delete(id);
}
