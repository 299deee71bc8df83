/**
 * The persistent snapshot cache: one file per repository (named by `config.id`) holding its
 * parsed snapshots, so a new process fetches only snapshot files it has not seen before. A
 * snapshot file's name is the hash of its bytes, so a cached snapshot is never stale; the set
 * of IDs is checked against `snapshots/` on every listing.
 *
 * File layout (sealed-file.ts): `MAGIC ‖ nonce(12) ‖ AES-256-GCM(zstd(JSON)) ‖ tag(16)`, with `MAGIC ‖ config.id`
 * as additional data. The key is HKDF-SHA-256 of the repository's master key, so reading the
 * cache needs the repository password, as the repository does; no password is written (the
 * unlocked key lives beside it in key-store.ts, sealed with the password).
 * A file that is missing, damaged, truncated, from another repository or another key is simply
 * not used (and replaced by the next write): the cache never makes a listing fail.
 * @module
 */
import { createHash, hkdfSync } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { constants as zlibConstants, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { holdsFileEndingWith, writePrivateFile } from "./atomic-file.ts";
import { openFile, sealFile } from "./sealed-file.ts";
import type { SealedFormat } from "./sealed-file.ts";
import type { CryptoKey } from "./crypto.ts";
import type { ResticSnapshot } from "./snapshot.ts";
import { ID_PATTERN, freezeSnapshot } from "./snapshot.ts";

/**
 * Bump the last byte whenever the shape `parseSnapshot` returns changes: older files then stop
 * authenticating (the version is part of the key and the additional data) and are rebuilt.
 */
const MAGIC = Buffer.from("PWRSNAP\x01", "latin1");
/** JSON strings beyond this cannot be built in V8; such a cache is not written or read. */
const MAX_JSON_BYTES = 256 * 1024 * 1024;
const HKDF_SALT = Buffer.from("podwarden restic snapshot cache", "utf8");

/** The file name for a repository: its `config.id` (hex), hashed when unusually long. */
const CACHE_FILE_SUFFIX = ".snapshots";

export function cacheFileName(repositoryId: string): string {
  const safe = /^[0-9a-f]{1,128}$/.test(repositoryId) ? repositoryId : createHash("sha256").update(repositoryId).digest("hex");
  return `${safe}${CACHE_FILE_SUFFIX}`;
}

/** Whether `dir` holds any repository's snapshot cache (a restarted container's emptyDir); false for a missing directory. */
export function holdsSnapshotCaches(dir: string): boolean {
  return holdsFileEndingWith(dir, CACHE_FILE_SUFFIX);
}

/** The cache key of a repository: HKDF-SHA-256(master key, salt, format ‖ repository id). */
export function deriveCacheKey(master: CryptoKey, repositoryId: string): Uint8Array {
  const ikm = Buffer.concat([master.encrypt, master.macK, master.macR]);
  const info = Buffer.concat([MAGIC, Buffer.from(repositoryId, "utf8")]);
  return new Uint8Array(hkdfSync("sha256", ikm, HKDF_SALT, info, 32));
}

export interface CacheSealOptions {
  /** From deriveCacheKey. */
  readonly key: Uint8Array;
  readonly repositoryId: string;
}

interface CacheDocument {
  readonly repository: string;
  readonly snapshots: readonly ResticSnapshot[];
}

const FORMAT: SealedFormat = { magic: MAGIC, headerBytes: 0 };

/** Encodes the snapshots as a cache file; throws RangeError when they are too many to encode. */
export function sealCache(opts: CacheSealOptions, snapshots: readonly ResticSnapshot[]): Uint8Array {
  const doc: CacheDocument = { repository: opts.repositoryId, snapshots };
  const json = Buffer.from(JSON.stringify(doc), "utf8");
  if (json.length > MAX_JSON_BYTES) throw new RangeError(`snapshot cache of ${snapshots.length} snapshots exceeds ${MAX_JSON_BYTES} bytes`);
  const plain = zstdCompressSync(json, { params: { [zlibConstants.ZSTD_c_compressionLevel]: 1 } });
  return sealFile(FORMAT, { key: opts.key, context: opts.repositoryId }, plain);
}

/** Decodes a cache file; undefined when it is not a valid cache of this repository under this key. */
export function openCache(opts: CacheSealOptions, file: Uint8Array): ResticSnapshot[] | undefined {
  const plain = openFile(FORMAT, { keyFor: () => opts.key, context: opts.repositoryId }, file);
  if (plain === undefined) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(zstdDecompressSync(plain, { maxOutputLength: MAX_JSON_BYTES }).toString("utf8"));
  } catch {
    return undefined;
  }
  return snapshotsOf(doc, opts.repositoryId);
}

/** The document's snapshots, frozen; undefined unless every entry looks like a parsed snapshot. */
function snapshotsOf(doc: unknown, repositoryId: string): ResticSnapshot[] | undefined {
  const d = doc as Partial<CacheDocument> | null;
  if (typeof d !== "object" || d === null || d.repository !== repositoryId || !Array.isArray(d.snapshots)) return undefined;
  const list = d.snapshots as unknown[];
  if (!list.every(isSnapshotLike)) return undefined;
  return list.map((s) => freezeSnapshot(s));
}

function isSnapshotLike(s: unknown): s is ResticSnapshot {
  if (typeof s !== "object" || s === null) return false;
  const r = s as Record<string, unknown>;
  return typeof r.id === "string" && ID_PATTERN.test(r.id) && r.short_id === r.id.slice(0, 8) && typeof r.time === "string" && typeof r.tree === "string";
}

/** What a cache file held: `absent` (no file), `loaded`, or `unusable` (ignored; it will be replaced). */
export interface CacheLoad {
  readonly state: "absent" | "loaded" | "unusable";
  readonly snapshots: readonly ResticSnapshot[];
}

export interface DiskCache {
  /** The cache file. */
  readonly path: string;
  /** Never throws: a file that cannot be read is `unusable`. */
  load(): Promise<CacheLoad>;
  /** Replaces the file atomically (temporary file, then rename); throws on storage errors. */
  save(snapshots: readonly ResticSnapshot[]): Promise<void>;
}

export interface DiskCacheOptions {
  readonly dir: string;
  readonly repositoryId: string;
  readonly masterKey: CryptoKey;
}

/** The cache file of one repository under `dir` (created on first write, mode 0700). */
export function diskCache(opts: DiskCacheOptions): DiskCache {
  const seal: CacheSealOptions = { key: deriveCacheKey(opts.masterKey, opts.repositoryId), repositoryId: opts.repositoryId };
  const path = join(opts.dir, cacheFileName(opts.repositoryId));
  return {
    path,
    async load() {
      let bytes: Uint8Array;
      try {
        bytes = await readFile(path);
      } catch (err) {
        const absent = (err as { code?: unknown }).code === "ENOENT";
        return { state: absent ? "absent" : "unusable", snapshots: [] };
      }
      const snapshots = openCache(seal, bytes);
      return snapshots === undefined ? { state: "unusable", snapshots: [] } : { state: "loaded", snapshots };
    },
    async save(snapshots) {
      await writePrivateFile(path, sealCache(seal, snapshots));
    },
  };
}
