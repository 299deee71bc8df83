/**
 * Unlocked master keys kept across restarts: one file per repository location, so a restarted
 * process skips scrypt (restic's key derivation takes about half a second by design) when it
 * is given the same password again.
 *
 * File layout: `MAGIC ‖ salt(16) ‖ nonce(12) ‖ AES-256-GCM(JSON) ‖ tag(16)`, with
 * `MAGIC ‖ location` as additional data. The sealing key is HKDF-SHA-256 of the **password**
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
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writePrivateFile } from "./atomic-file.ts";
import { isValidKey } from "./crypto.ts";
import type { FoundKey } from "./keys.ts";
import { ID_PATTERN } from "./snapshot.ts";

const MAGIC = Buffer.from("PWRKEY\x00\x01", "latin1");
const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER = MAGIC.length + SALT_BYTES + NONCE_BYTES;
/** A sealed entry is a few hundred bytes; anything much larger is not ours. */
const MAX_FILE_BYTES = 4096;

export interface KeyStore {
  /** The entry of `location` sealed under `password`; undefined when absent, damaged or sealed under another password. Never throws. */
  load(location: string, password: string): Promise<FoundKey | undefined>;
  /** Replaces the entry of `location` atomically; throws on storage errors. */
  save(location: string, password: string, entry: FoundKey): Promise<void>;
}

/** The file of a location: its SHA-256, so any backend description is a safe name. */
export function keyFileName(location: string): string {
  return `${createHash("sha256").update(location, "utf8").digest("hex")}.key`;
}

function sealingKey(password: string, salt: Uint8Array, location: string): Buffer {
  return Buffer.from(hkdfSync("sha256", Buffer.from(password, "utf8"), salt, Buffer.concat([MAGIC, Buffer.from(location, "utf8")]), 32));
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString("base64");

/** Seals an entry under a new random salt and nonce. */
export function sealKey(location: string, password: string, entry: FoundKey): Uint8Array {
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const doc = { keyId: entry.keyId, encrypt: b64(entry.key.encrypt), macK: b64(entry.key.macK), macR: b64(entry.key.macR) };
  const cipher = createCipheriv("aes-256-gcm", sealingKey(password, salt, location), nonce);
  cipher.setAAD(Buffer.concat([MAGIC, Buffer.from(location, "utf8")]));
  const body = Buffer.concat([cipher.update(JSON.stringify(doc), "utf8"), cipher.final()]);
  return Buffer.concat([MAGIC, salt, nonce, body, cipher.getAuthTag()]);
}

/** Opens a sealed entry; undefined unless it is a valid entry of `location` under `password`. */
export function openKey(location: string, password: string, file: Uint8Array): FoundKey | undefined {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (bytes.length < HEADER + TAG_BYTES || bytes.length > MAX_FILE_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const salt = bytes.subarray(MAGIC.length, MAGIC.length + SALT_BYTES);
  const nonce = bytes.subarray(MAGIC.length + SALT_BYTES, HEADER);
  let doc: Record<string, unknown>;
  try {
    const decipher = createDecipheriv("aes-256-gcm", sealingKey(password, salt, location), nonce);
    decipher.setAAD(Buffer.concat([MAGIC, Buffer.from(location, "utf8")]));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(bytes.subarray(HEADER, bytes.length - TAG_BYTES)), decipher.final()]);
    doc = JSON.parse(plain.toString("utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { keyId, encrypt, macK, macR } = doc;
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
