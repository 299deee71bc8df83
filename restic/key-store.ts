/**
 * Unlocked master keys kept across restarts: one file per repository location, so a restarted
 * process skips scrypt (restic's key derivation takes about half a second by design) when it
 * is given the same password again.
 *
 * File layout (sealed-file.ts): `MAGIC ‖ salt(16) ‖ nonce(12) ‖ AES-256-GCM(JSON) ‖ tag(16)`,
 * with `MAGIC ‖ salt ‖ location` as additional data. The sealing key is HKDF-SHA-256 of the **password**
 * (with the file's random salt, bound to the location), so only a caller that already holds the
 * password can open an entry; a wrong or changed password simply finds nothing. The entry names
 * the key file it came from: it is used only while `keys/<id>` is still listed (removing a
 * password with `restic key remove` revokes it here too) and while `config` decrypts with it.
 *
 * What this trades: the file can be tested against password guesses with one HKDF instead of
 * one scrypt each. Keep the directory where only the process can read it and nothing is
 * written to disk (the manifests use a memory-backed emptyDir); docs/snapshots-cold-start.md.
 * @module
 */
import { createHash, hkdfSync, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { holdsFileEndingWith, writePrivateFile } from "./atomic-file.ts";
import { openFile, sealFile } from "./sealed-file.ts";
import type { SealedFormat } from "./sealed-file.ts";
import { isValidKey } from "./crypto.ts";
import type { FoundKey } from "./keys.ts";
import { ID_PATTERN } from "./snapshot.ts";

const MAGIC = Buffer.from("PWRKEY\x00\x01", "latin1");
const SALT_BYTES = 16;
/** The sealed format; its header is the salt of the sealing key. */
const FORMAT: SealedFormat = { magic: MAGIC, headerBytes: SALT_BYTES };
/** A sealed entry is a few hundred bytes; anything much larger is not ours. */
const MAX_FILE_BYTES = 4096;

export interface KeyStore {
  /** The entry of `location` sealed under `password`; undefined when absent, damaged or sealed under another password. Never throws. */
  load(location: string, password: string): Promise<FoundKey | undefined>;
  /** Replaces the entry of `location` atomically; throws on storage errors. */
  save(location: string, password: string, entry: FoundKey): Promise<void>;
  /**
   * Removes the entries of repositories no longer served, once unused for a while; the names
   * removed. Absent where something else sweeps (the files of a cache directory: cache-sweep.ts).
   */
  sweep?(o: KeySweep): Promise<string[]>;
}

/** What a sweep keeps: entries named in `keep` (keyFileName of every repository in use), and others until unused for `olderThanMs`. */
export interface KeySweep {
  readonly keep: ReadonlySet<string>;
  readonly now: number;
  readonly olderThanMs: number;
}

const KEY_FILE_SUFFIX = ".key";

/**
 * Whether `dir` holds stored keys (a restarted container's emptyDir): its repositories will most
 * likely open without scrypt. False when the directory is missing or unreadable.
 */
export function holdsKeys(dir: string): boolean {
  return holdsFileEndingWith(dir, KEY_FILE_SUFFIX);
}

/** The file of a location: its SHA-256, so any backend description is a safe name. */
export function keyFileName(location: string): string {
  return `${createHash("sha256").update(location, "utf8").digest("hex")}${KEY_FILE_SUFFIX}`;
}

function sealingKey(password: string, salt: Uint8Array, location: string): Buffer {
  return Buffer.from(hkdfSync("sha256", Buffer.from(password, "utf8"), salt, Buffer.concat([MAGIC, Buffer.from(location, "utf8")]), 32));
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString("base64");

/** Seals an entry under a new random salt and nonce. */
export function sealKey(location: string, password: string, entry: FoundKey): Uint8Array {
  const salt = randomBytes(SALT_BYTES);
  const doc = { keyId: entry.keyId, encrypt: b64(entry.key.encrypt), macK: b64(entry.key.macK), macR: b64(entry.key.macR) };
  return sealFile(FORMAT, { key: sealingKey(password, salt, location), context: location, header: salt }, Buffer.from(JSON.stringify(doc), "utf8"));
}

/** Opens a sealed entry; undefined unless it is a valid entry of `location` under `password`. */
export function openKey(location: string, password: string, file: Uint8Array): FoundKey | undefined {
  if (file.length > MAX_FILE_BYTES) return undefined;
  const plain = openFile(FORMAT, { keyFor: (salt) => sealingKey(password, salt, location), context: location }, file);
  if (plain === undefined) return undefined;
  let doc: Record<string, unknown> | null;
  try {
    doc = JSON.parse(plain.toString("utf8")) as Record<string, unknown> | null;
  } catch {
    return undefined;
  }
  const { keyId, encrypt, macK, macR } = doc ?? {};
  if (typeof keyId !== "string" || !ID_PATTERN.test(keyId) || typeof encrypt !== "string" || typeof macK !== "string" || typeof macR !== "string") return undefined;
  const key = { encrypt: Buffer.from(encrypt, "base64"), macK: Buffer.from(macK, "base64"), macR: Buffer.from(macR, "base64") };
  return isValidKey(key) ? { keyId, key } : undefined;
}

/** The key store under `dir` (created on first write, mode 0700; files 0600). */
export function keyStore(dir: string): KeyStore {
  return {
    async load(location, password) {
      try {
        return openKey(location, password, await readFile(join(dir, keyFileName(location))));
      } catch {
        return undefined;
      }
    },
    async save(location, password, entry) {
      await writePrivateFile(join(dir, keyFileName(location)), sealKey(location, password, entry));
    },
  };
}

/**
 * Stores tried in order (the fastest first): `load` answers from the first that holds the entry
 * and copies it into the ones before it; `save` writes to every store and rejects with the first
 * failure once all have been tried.
 */
export function layeredKeyStore(stores: readonly KeyStore[]): KeyStore {
  return {
    async load(location, password) {
      for (const [i, store] of stores.entries()) {
        const entry = await store.load(location, password);
        if (entry === undefined) continue;
        for (const before of stores.slice(0, i)) void before.save(location, password, entry).catch(() => undefined);
        return entry;
      }
      return undefined;
    },
    async save(location, password, entry) {
      const results = await Promise.allSettled(stores.map((s) => s.save(location, password, entry)));
      const failed = results.find((r) => r.status === "rejected");
      if (failed !== undefined) throw failed.reason;
    },
    async sweep(o) {
      const removed = await Promise.all(stores.map((s) => s.sweep?.(o) ?? []));
      return removed.flat();
    },
  };
}
