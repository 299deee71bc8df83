/**
 * A restic repository opened for listing and forgetting snapshots, natively: no restic process,
 * no lock, no index. The master key is derived once per repository and password; snapshots are
 * cached by ID (a file's ID is the hash of its bytes, so a cached entry is never stale).
 * @module
 */
import type { Logger } from "../kube/log.ts";
import type { Backend } from "./backend.ts";
import type { CryptoKey } from "./crypto.ts";
import { BackendNotFoundError, ResticRepoError } from "./errors.ts";
import type { CacheSync } from "./cache-sync.ts";
import { createCacheSync } from "./cache-sync.ts";
import { diskCache, holdsSnapshotCaches } from "./disk-cache.ts";
import { keyStore } from "./key-store.ts";
import type { KeyStore } from "./key-store.ts";
import type { DecodePool } from "./decode-pool.ts";
import { createDecodePool, defaultPoolSize } from "./decode-pool.ts";
import type { SnapshotFileError } from "./load.ts";
import { loadSnapshots, prestartFor } from "./loader.ts";
import type { OnSnapshots } from "./loader.ts";
import type { RomixLane } from "./scrypt.ts";
import { eventLoopLane } from "./scrypt.ts";
import type { ResticSnapshot } from "./snapshot.ts";
import { ID_PATTERN, compareSnapshots } from "./snapshot.ts";
import type { RepoVersion } from "./unpacked.ts";
import type { KeyCache } from "./unlock.ts";
import { prefetch, unlock } from "./unlock.ts";

export type { KeyCache, OnSnapshots, SnapshotFileError };
export { keyCacheKey } from "./unlock.ts";

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
  /**
   * Directory for the persistent snapshot cache (one encrypted file per repository, named by its
   * `config.id`; see disk-cache.ts) and, unless `keyStore` says otherwise, the key store (the
   * unlocked key sealed with the password; key-store.ts). Absent: memory only.
   */
  readonly cacheDir?: string;
  /** Where unlocked keys are kept beyond this process; default: the files of `cacheDir`. */
  readonly keyStore?: KeyStore;
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
  /**
   * Lists every snapshot. `onBatch`, when given, is told each listed snapshot exactly once before
   * the listing resolves: the ones already cached first, then each batch as it is read (a cold
   * listing of thousands of files can be shown while it goes on).
   */
  listSnapshots(onBatch?: OnSnapshots): Promise<ListResult>;
  /** Removes `snapshots/<id>` (restic forget without --prune); forgetting an absent snapshot succeeds. */
  forgetSnapshot(id: string): Promise<void>;
  /**
   * Resolves when the disk cache holds the last listing and the key store the key a search found
   * (both are written in the background); at once when there is nothing to write.
   */
  flushCache(): Promise<void>;
}

/** Opens a repository: reads `config`, finds the master key (cached), checks the version. */
export async function openRepository(opts: OpenRepositoryOptions): Promise<Repository> {
  const repository = opts.backend.describe();
  // The first listing's names are fetched while the key is derived (scrypt dominates opening).
  const names = prefetch(opts.backend.list("snapshots"));
  const pool = opts.decodePool === null ? undefined : (opts.decodePool ?? defaultPool());
  if (pool !== undefined) prestartForLargeListing(pool, names, opts.cacheDir);
  // scrypt's p blocks are mixed in the pool's workers, one lane per worker.
  const lanes = pool === undefined ? undefined : romixLanes(pool);
  const store = opts.keyStore ?? (opts.cacheDir === undefined ? undefined : keyStore(opts.cacheDir));
  const { key, config, from, stored } = await unlock({ ...opts, ...(store === undefined ? {} : { keyStore: store }), ...(lanes === undefined ? {} : { romixLanes: lanes }) }, prefetch(readConfig(opts.backend)));
  const { id, version } = parseConfig(repository, config);
  opts.log?.debug({ repository, repositoryId: id, version, key: from }, "restic repository opened");
  const sync = opts.cacheDir === undefined ? undefined : startCacheSync(opts.cacheDir, { repository, id, key, log: opts.log });
  return createRepository({ ...opts, key, id, version, pool, names, sync, stored });
}

/**
 * A listing large enough for the workers and no snapshot cache to read it from (a new process,
 * an empty cache directory): the workers start while the key is being opened.
 */
function prestartForLargeListing(pool: DecodePool, names: Promise<string[]>, cacheDir: string | undefined): void {
  if (cacheDir !== undefined && holdsSnapshotCaches(cacheDir)) return;
  void names.then((ids) => prestartFor(pool, ids.length), () => undefined);
}

/** Starts reading the repository's disk cache file right away (it needs the key, so only now). */
function startCacheSync(dir: string, repo: { repository: string; id: string; key: CryptoKey; log: Logger | undefined }): CacheSync {
  const disk = diskCache({ dir, repositoryId: repo.id, masterKey: repo.key });
  return createCacheSync({ disk, repository: repo.repository, ...(repo.log ? { log: repo.log } : {}) });
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
  /** The names in `snapshots/`, listed while opening; used by the first listing only. */
  readonly names: Promise<string[]>;
  readonly sync: CacheSync | undefined;
  /** The key found by a search, in the key store (unlock.ts). */
  readonly stored: Promise<void>;
}

const DEFAULT_CONCURRENCY = 16;

let sharedPool: DecodePool | undefined;

/**
 * One ROMix lane per worker of the pool, and the main thread's event loop: one lane per core
 * (defaultPoolSize). The main thread mixes from the moment the password is read, while a new
 * process's workers still boot (40–100 ms), and the workers claim the blocks left when they are
 * up (scrypt.ts). Between two blocks (70–80 ms each) the event loop serves what is waiting.
 */
function romixLanes(pool: DecodePool): RomixLane[] {
  const workers = Array.from({ length: pool.size }, (): RomixLane => (shared) => pool.romix(shared));
  return [...workers, eventLoopLane];
}

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
  let prefetched: Promise<string[]> | undefined = state.names;
  const names = (): Promise<string[]> => {
    const p = prefetched ?? state.backend.list("snapshots");
    prefetched = undefined;
    return p;
  };

  const list = async (onBatch: OnSnapshots | undefined): Promise<ListResult> => {
    const ids = (await names()).filter((n) => ID_PATTERN.test(n));
    await state.sync?.restore(cache, ids);
    const missing = ids.filter((id) => cache.get(id) === undefined);
    if (onBatch !== undefined && missing.length < ids.length) onBatch(inOrder(cache, new Set(ids)));
    const loaded = await loadSnapshots(load, missing, onBatch);
    for (const s of loaded.snapshots) cache.set(s.id, s);
    const listed = new Set(ids);
    evict(cache, listed);
    for (const e of loaded.errors) state.log?.warn({ repository: location, snapshot: e.id, code: e.code }, "restic snapshot file skipped");
    // In the cache's order (a Map's: the disk cache's sorted order, then new ones), so sorting is nearly free.
    const snapshots = inOrder(cache, listed).sort(compareSnapshots);
    const errors = loaded.errors.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    state.sync?.record(snapshots);
    return { snapshots, errors };
  };

  return {
    id: state.id,
    version: state.version,
    location,
    listSnapshots(onBatch) {
      const run = queue.then(
        () => list(onBatch),
        () => list(onBatch),
      );
      queue = run.catch(() => undefined);
      return run;
    },
    async forgetSnapshot(id) {
      if (!ID_PATTERN.test(id)) {
        throw new RangeError(`restic repository ${location}: snapshot id ${JSON.stringify(id)} must be the full 64-character lowercase hex ID`);
      }
      await state.backend.remove(`snapshots/${id}`);
      prefetched = undefined;
      cache.delete(id);
      state.log?.info({ repository: location, snapshot: id }, "restic snapshot forgotten");
    },
    flushCache: async () => {
      await state.stored;
      await state.sync?.flush();
    },
  };
}

function inOrder(cache: SnapshotCache, listed: ReadonlySet<string>): ResticSnapshot[] {
  const out: ResticSnapshot[] = [];
  for (const id of cache.keys()) {
    const s = listed.has(id) ? cache.get(id) : undefined;
    if (s !== undefined) out.push(s);
  }
  return out;
}

function evict(cache: SnapshotCache, listed: ReadonlySet<string>): void {
  for (const id of [...cache.keys()]) if (!listed.has(id)) cache.delete(id);
}
