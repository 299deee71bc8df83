/**
 * Opening a repository's master key: each `keys/<id>` file holds scrypt parameters and the master
 * key sealed with the key derived from the password. The first key that opens wins.
 * @module
 */
import type { Backend } from "./backend.ts";
import type { CryptoKey, ScryptParams } from "./crypto.ts";
import { DecryptError, decrypt, deriveUserKey, isValidKey } from "./crypto.ts";
import { BackendNotFoundError, ResticRepoError } from "./errors.ts";
import { ID_PATTERN } from "./snapshot.ts";

/** restic tries at most this many key files (cmd/restic/global.go). */
export const MAX_KEYS_TRIED = 20;
const SALT_BYTES = 64;
/** Bounds that keep a hostile key file from asking for more than 1 GiB or hours of scrypt. */
const MAX_SCRYPT_MEMORY = 1024 * 1024 * 1024;
const MAX_SCRYPT_P = 1024;

export class KeyFileError extends Error {
  override readonly name = "KeyFileError";
}

export interface ParsedKeyFile {
  readonly params: ScryptParams;
  readonly sealed: Uint8Array;
}

/** Checks a key file's JSON (`kdf`, `N`, `r`, `p`, `salt`, `data`); throws KeyFileError naming the field. */
export function parseKeyFile(doc: unknown): ParsedKeyFile {
  if (typeof doc !== "object" || doc === null) throw new KeyFileError("key file must be a JSON object");
  const d = doc as Record<string, unknown>;
  if (d.kdf !== "scrypt") throw new KeyFileError(`kdf must be "scrypt", got ${JSON.stringify(d.kdf)}`);
  const N = positiveInt(d.N, "N");
  const r = positiveInt(d.r, "r");
  const p = positiveInt(d.p, "p");
  if (N < 2 || (N & (N - 1)) !== 0) throw new KeyFileError(`N must be a power of two ≥ 2, got ${N}`);
  if (128 * N * r > MAX_SCRYPT_MEMORY || p > MAX_SCRYPT_P) {
    throw new KeyFileError(`scrypt parameters N=${N} r=${r} p=${p} exceed 1 GiB of memory or p ≤ ${MAX_SCRYPT_P}`);
  }
  const salt = base64(d.salt, "salt");
  if (salt.length !== SALT_BYTES) throw new KeyFileError(`salt must be ${SALT_BYTES} bytes, got ${salt.length}`);
  return { params: { N, r, p, salt }, sealed: base64(d.data, "data") };
}

/** Parses the decrypted master key `{"mac":{"k","r"},"encrypt"}`; throws KeyFileError. */
export function parseMasterKey(plaintext: Uint8Array): CryptoKey {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(plaintext).toString("utf8"));
  } catch {
    throw new KeyFileError("master key is not valid JSON");
  }
  const d = (typeof doc === "object" && doc !== null ? doc : {}) as { mac?: { k?: unknown; r?: unknown }; encrypt?: unknown };
  const key = { encrypt: base64(d.encrypt, "encrypt"), macK: base64(d.mac?.k, "mac.k"), macR: base64(d.mac?.r, "mac.r") };
  if (!isValidKey(key)) throw new KeyFileError("master key must have a 32-byte encrypt and 16-byte mac.k and mac.r, not all zero");
  return key;
}

function positiveInt(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
    throw new KeyFileError(`${field} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function base64(v: unknown, field: string): Uint8Array {
  if (typeof v !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) {
    throw new KeyFileError(`${field} must be standard base64, got ${typeof v}`);
  }
  return Buffer.from(v, "base64");
}

export interface FindMasterKeyOptions {
  readonly backend: Backend;
  readonly password: string;
  /** Injected for tests; defaults to scrypt. */
  readonly derive?: (password: string, params: ScryptParams) => Promise<CryptoKey>;
}

type Attempt = "opened" | "wrong" | "corrupt" | "gone";

/** A master key and the key file (`keys/<keyId>`) that opened it. */
export interface FoundKey {
  readonly keyId: string;
  readonly key: CryptoKey;
}

/** Tries up to 20 key files in listing order; WrongPassword when none opens, CorruptFile when none is readable. */
export async function findMasterKey(opts: FindMasterKeyOptions): Promise<CryptoKey> {
  return (await findKey(opts)).key;
}

/** findMasterKey, also naming the key file that opened. */
export async function findKey(opts: FindMasterKeyOptions): Promise<FoundKey> {
  const repository = opts.backend.describe();
  const ids = (await opts.backend.list("keys")).filter((n) => ID_PATTERN.test(n)).slice(0, MAX_KEYS_TRIED);
  const seen: Attempt[] = [];
  for (const id of ids) {
    const result = await tryKey(opts, id);
    if (typeof result === "object") return { keyId: id, key: result };
    seen.push(result);
  }
  if (seen.length > 0 && seen.every((a) => a === "corrupt")) {
    throw new ResticRepoError({
      code: "CorruptFile",
      repository,
      file: "keys/",
      detail: `none of the ${seen.length} key files is a valid restic key file (JSON with kdf "scrypt", N, r, p, salt, data)`,
    });
  }
  const tried = seen.filter((a) => a !== "gone").length;
  throw new ResticRepoError({
    code: "WrongPassword",
    repository,
    detail:
      tried === 0
        ? "has no key files in keys/, so no password can open it"
        : `wrong password: none of the ${tried} key files opens with it; use the password the repository was initialised with`,
  });
}

async function tryKey(opts: FindMasterKeyOptions, id: string): Promise<CryptoKey | Attempt> {
  let parsed: ParsedKeyFile;
  try {
    const raw = await opts.backend.read(`keys/${id}`);
    parsed = parseKeyFile(JSON.parse(Buffer.from(raw).toString("utf8")));
  } catch (err) {
    if (err instanceof BackendNotFoundError) return "gone";
    if (err instanceof ResticRepoError) throw err;
    return "corrupt";
  }
  const userKey = await (opts.derive ?? deriveUserKey)(opts.password, parsed.params);
  try {
    return parseMasterKey(decrypt(userKey, parsed.sealed));
  } catch (err) {
    if (err instanceof DecryptError && err.reason === "BadMac") return "wrong";
    return "corrupt";
  }
}
