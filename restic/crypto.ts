/**
 * restic's cryptography: scrypt key derivation, AES-256-CTR encryption and the Poly1305-AES
 * MAC over the ciphertext (IV ‖ ciphertext ‖ MAC, 32 bytes of overhead).
 * @module
 */
import { createCipheriv, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import type { Cipheriv } from "node:crypto";
import { poly1305 } from "./poly1305.ts";
import type { RomixLane, ScryptInput } from "./scrypt.ts";
import { scryptInLanes } from "./scrypt.ts";

/** A restic key: AES-256 key plus the Poly1305-AES pair (k for AES-128, r for Poly1305). */
export interface CryptoKey {
  readonly encrypt: Uint8Array;
  readonly macK: Uint8Array;
  readonly macR: Uint8Array;
}

export const IV_SIZE = 16;
export const MAC_SIZE = 16;
export const CIPHERTEXT_OVERHEAD = IV_SIZE + MAC_SIZE;

export const DECRYPT_FAILURES = ["TooShort", "InvalidNonce", "BadMac"] as const;
export type DecryptFailure = (typeof DECRYPT_FAILURES)[number];

/** Why a ciphertext could not be opened; the caller decides what it means (wrong key, corrupt file). */
export class DecryptError extends Error {
  override readonly name = "DecryptError";
  readonly reason: DecryptFailure;

  constructor(reason: DecryptFailure, detail: string) {
    super(detail);
    this.reason = reason;
  }
}

/** scrypt parameters of a key file. */
export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Uint8Array;
}

const KEY_BYTES = 64;
const SCRYPT_SLACK = 16 * 1024 * 1024;

/** The memory scrypt needs for N, r, p (plus slack); Node's default 32 MiB is too little for restic's N=2^15, r=8. */
export function scryptMaxmem(params: Pick<ScryptParams, "N" | "r" | "p">): number {
  return 128 * params.r * (params.N + 2) + 128 * params.r * params.p + SCRYPT_SLACK;
}

/**
 * Derives the user key of a key file: scrypt(password, salt) split into encrypt ‖ mac.k ‖ mac.r.
 * With `lanes` (threads that run ROMix, scrypt.ts) the p blocks are mixed in parallel; without,
 * or when a lane fails, Node's scrypt runs on libuv's thread pool.
 */
export async function deriveUserKey(password: string, params: ScryptParams, lanes?: readonly RomixLane[]): Promise<CryptoKey> {
  const secret = Buffer.from(password, "utf8");
  const input = { password: secret, salt: params.salt, N: params.N, r: params.r, p: params.p, dkLen: KEY_BYTES };
  const parallel = lanes === undefined || lanes.length === 0 ? undefined : await scryptInLanes(input, lanes).catch(() => undefined);
  const dk = parallel ?? (await nodeScrypt(input));
  return { encrypt: dk.subarray(0, 32), macK: dk.subarray(32, 48), macR: dk.subarray(48, 64) };
}

function nodeScrypt(input: ScryptInput): Promise<Uint8Array> {
  const { N, r, p } = input;
  return new Promise((resolve, reject) => {
    scrypt(input.password, input.salt, input.dkLen, { N, r, p, maxmem: scryptMaxmem(input) }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** restic refuses keys whose parts are all zero. */
export function isValidKey(key: CryptoKey): boolean {
  return (
    key.encrypt.length === 32 &&
    key.macK.length === 16 &&
    key.macR.length === 16 &&
    !isAllZero(key.encrypt) &&
    !isAllZero(key.macK) &&
    !isAllZero(key.macR)
  );
}

function isAllZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

/**
 * Block ciphers per key, created once: ECB without padding is stateless between whole-block
 * updates, so one context serves every file (creating a cipher costs more than using it).
 */
interface KeyCiphers {
  readonly macAes: Cipheriv;
  readonly ctrAes: Cipheriv;
}
const ciphers = new WeakMap<CryptoKey, KeyCiphers>();

function ciphersOf(key: CryptoKey): KeyCiphers {
  let c = ciphers.get(key);
  if (c === undefined) {
    const macAes = createCipheriv("aes-128-ecb", key.macK, null).setAutoPadding(false);
    const ctrAes = createCipheriv("aes-256-ecb", key.encrypt, null).setAutoPadding(false);
    c = { macAes, ctrAes };
    ciphers.set(key, c);
  }
  return c;
}

/** Poly1305-AES: s = AES-128(mac.k, IV), tag = Poly1305(ciphertext, mac.r ‖ s). r is clamped by poly1305. */
export function computeMac(key: CryptoKey, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  if (iv.length !== IV_SIZE) throw new RangeError(`IV must be ${IV_SIZE} bytes, got ${iv.length}`);
  const s = ciphersOf(key).macAes.update(iv);
  const polyKey = new Uint8Array(32);
  polyKey.set(key.macR, 0);
  polyKey.set(s, 16);
  return poly1305(ciphertext, polyKey);
}

/**
 * AES-256-CTR as Go's cipher.NewCTR: the IV is the first counter block, incremented as one
 * 128-bit big-endian integer (wrapping). The keystream comes from the key's reused ECB context.
 */
export function aesCtr(key: CryptoKey, iv: Uint8Array, input: Uint8Array): Uint8Array {
  if (input.length === 0) return new Uint8Array(0);
  const blocks = Math.ceil(input.length / 16);
  const counters = Buffer.allocUnsafe(blocks * 16);
  counters.set(iv.subarray(0, 16), 0);
  for (let b = 1; b < blocks; b++) {
    counters.copyWithin(b * 16, (b - 1) * 16, b * 16);
    incrementBlock(counters, b * 16);
  }
  const stream = ciphersOf(key).ctrAes.update(counters);
  const out = Buffer.allocUnsafe(input.length);
  for (let i = 0; i < input.length; i++) out[i] = (input[i] as number) ^ (stream[i] as number);
  return out;
}

function incrementBlock(buf: Buffer, offset: number): void {
  for (let j = offset + 15; j >= offset; j--) {
    buf[j] = ((buf[j] as number) + 1) & 0xff;
    if (buf[j] !== 0) return;
  }
}

/** Verifies the MAC (constant time) and decrypts `IV ‖ ciphertext ‖ MAC`. Throws DecryptError. */
export function decrypt(key: CryptoKey, sealed: Uint8Array): Uint8Array {
  if (sealed.length < CIPHERTEXT_OVERHEAD) {
    throw new DecryptError("TooShort", `ciphertext is ${sealed.length} bytes, at least ${CIPHERTEXT_OVERHEAD} expected`);
  }
  const iv = sealed.subarray(0, IV_SIZE);
  if (isAllZero(iv)) throw new DecryptError("InvalidNonce", "ciphertext has an all-zero IV");
  const ciphertext = sealed.subarray(IV_SIZE, sealed.length - MAC_SIZE);
  const mac = sealed.subarray(sealed.length - MAC_SIZE);
  const expected = computeMac(key, iv, ciphertext);
  if (!timingSafeEqual(expected, mac)) throw new DecryptError("BadMac", "ciphertext MAC does not verify");
  return aesCtr(key, iv, ciphertext);
}

/** Encrypts as restic does (random IV, AES-256-CTR, Poly1305-AES). Used by test fixtures and benchmarks. */
export function encrypt(key: CryptoKey, plaintext: Uint8Array, iv: Uint8Array = randomBytes(IV_SIZE)): Uint8Array {
  const ctr = createCipheriv("aes-256-ctr", key.encrypt, iv);
  const ciphertext = Buffer.concat([ctr.update(plaintext), ctr.final()]);
  const out = new Uint8Array(CIPHERTEXT_OVERHEAD + ciphertext.length);
  out.set(iv, 0);
  out.set(ciphertext, IV_SIZE);
  out.set(computeMac(key, iv, ciphertext), IV_SIZE + ciphertext.length);
  return out;
}
