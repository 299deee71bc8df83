/**
 * Opening a repository's master key, cheapest first: the process's key cache (memory), the key
 * store (a restarted process's files, or keys an earlier pod stored; key-store.ts), and only then
 * the key search through `keys/` (scrypt). Whatever is cached must still decrypt `config`, or the
 * search runs.
 * @module
 */
import { createHmac, randomBytes } from "node:crypto";
import type { Logger } from "../kube/log.ts";
import type { Backend } from "./backend.ts";
import type { CryptoKey, ScryptParams } from "./crypto.ts";
import { DecryptError, decrypt, deriveUserKey } from "./crypto.ts";
import { ResticRepoError, describeCause } from "./errors.ts";
import { findKey } from "./keys.ts";
import type { KeyStore } from "./key-store.ts";
import type { RomixLane } from "./scrypt.ts";

export interface UnlockOptions {
  readonly backend: Backend;
  readonly password: string;
  readonly keyCache?: KeyCache;
  /** Where unlocked keys are kept beyond this process (key-store.ts); absent: memory only. */
  readonly keyStore?: KeyStore;
  /** Threads that run scrypt's ROMix blocks in parallel (scrypt.ts); absent: Node's scrypt. */
  readonly romixLanes?: readonly RomixLane[];
  readonly log?: Logger;
}

/** Master keys by repository and password digest; a Map works. Values are promises so concurrent opens share one scrypt. */
export interface KeyCache {
  get(key: string): Promise<CryptoKey> | undefined;
  set(key: string, value: Promise<CryptoKey>): unknown;
  delete(key: string): unknown;
}

/** Process-wide secret so key-cache entries hold no plain password digest. */
const CACHE_PEPPER = randomBytes(32);
const defaultKeyCache: KeyCache = new Map<string, Promise<CryptoKey>>();

export function keyCacheKey(backend: Backend, password: string): string {
  const digest = createHmac("sha256", CACHE_PEPPER).update(password, "utf8").digest("hex");
  return `${backend.describe()}\n${digest}`;
}

/** Where an unlocked key came from: this process's memory, the key store, or the key search (scrypt; possibly shared with a concurrent open). */
export type KeySource = "memory" | "store" | "search";

export interface Unlocked {
  readonly key: CryptoKey;
  readonly config: Uint8Array;
  readonly from: KeySource;
  /**
   * Resolves once a key found by the search is in the key store (at once when nothing is to be
   * stored); never rejects (a failed save is logged). The key is used without waiting for it.
   */
  readonly stored: Promise<void>;
}

/** A key search under way: the master key, and its save to the key store after it. */
interface Search {
  readonly key: Promise<CryptoKey>;
  readonly stored: Promise<void>;
}

const NOTHING_TO_STORE: Promise<void> = Promise.resolve();

/** A promise whose rejection is observed now and surfaces only where it is awaited. */
export function prefetch<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/**
 * Uses the cached master key when it still opens `config` (a re-initialised repository
 * invalidates it): from memory, else from the key store (a restarted process, a new pod).
 * Without one, the key search starts at once, while `config` is still being read; a missing
 * `config` is still the error reported.
 */
export async function unlock(opts: UnlockOptions, readingConfig: Promise<Uint8Array>): Promise<Unlocked> {
  const cache = opts.keyCache ?? defaultKeyCache;
  const cacheKey = keyCacheKey(opts.backend, opts.password);
  const store = opts.keyStore;
  const inMemory = cache.get(cacheKey);
  const cached = inMemory ?? (await storedKey(opts, store)).key;
  const early = cached === undefined ? searchKey(opts, cache, cacheKey, store) : undefined;
  const sealedConfig = await readingConfig;
  const opened = cached === undefined ? undefined : await openWith(cached, sealedConfig);
  if (opened !== undefined) {
    cache.set(cacheKey, cached as Promise<CryptoKey>);
    return { ...opened, from: inMemory === undefined ? "store" : "memory", stored: NOTHING_TO_STORE };
  }
  if (cached !== undefined && cache.get(cacheKey) === cached) cache.delete(cacheKey);
  const search = early ?? searchKey(opts, cache, cacheKey, store);
  const key = await search.key;
  const config = tryDecrypt(key, sealedConfig);
  if (config === undefined) {
    throw new ResticRepoError({
      code: "CorruptFile",
      repository: opts.backend.describe(),
      file: "config",
      detail: "config does not decrypt with the master key of the key file; the repository is damaged",
    });
  }
  return { key, config, from: "search", stored: search.stored };
}

/** `config` opened with a cached key; undefined when the key is unavailable or no longer opens it. */
async function openWith(cached: Promise<CryptoKey>, sealedConfig: Uint8Array): Promise<{ key: CryptoKey; config: Uint8Array } | undefined> {
  const key = await cached.catch(() => undefined);
  const config = key === undefined ? undefined : tryDecrypt(key, sealedConfig);
  return key === undefined || config === undefined ? undefined : { key, config };
}

/**
 * The stored key of this repository and password, while its key file is still listed (a removed
 * key file revokes its password); undefined otherwise (`config`, read meanwhile, must still open).
 */
async function storedKey(opts: UnlockOptions, store: KeyStore | undefined): Promise<{ key?: Promise<CryptoKey> }> {
  const entry = await store?.load(opts.backend.describe(), opts.password);
  if (entry === undefined) return {};
  const ids = await opts.backend.list("keys").catch(() => [] as string[]);
  return ids.includes(entry.keyId) ? { key: Promise.resolve(entry.key) } : {};
}

/**
 * Starts a key search and shares it through the cache; a failed search is not kept. A key found
 * is stored in the background: the listing that waits for the key does not wait for the store
 * (a Secret patch is a round trip to kube-apiserver and etcd).
 */
function searchKey(opts: UnlockOptions, cache: KeyCache, cacheKey: string, store: KeyStore | undefined): Search {
  const repository = opts.backend.describe();
  const lanes = opts.romixLanes;
  const derive = lanes === undefined ? undefined : (password: string, params: ScryptParams) => deriveUserKey(password, params, lanes);
  const found = findKey({ backend: opts.backend, password: opts.password, ...(derive === undefined ? {} : { derive }) });
  const key = found.then((f) => f.key);
  cache.set(cacheKey, key);
  key.catch(() => {
    if (cache.get(cacheKey) === key) cache.delete(cacheKey);
  });
  const stored = found.then(
    async (f) => {
      await store?.save(repository, opts.password, f).catch((err: unknown) => opts.log?.warn({ repository, error: describeCause(err) }, "restic key store not written"));
    },
    () => undefined,
  );
  return { key, stored };
}

export function tryDecrypt(key: CryptoKey, sealed: Uint8Array): Uint8Array | undefined {
  try {
    return decrypt(key, sealed);
  } catch (err) {
    if (err instanceof DecryptError) return undefined;
    throw err;
  }
}

