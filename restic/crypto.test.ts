import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { poly1305 } from "@noble/ciphers/_poly1305.js";
import type { CryptoKey } from "./crypto.ts";
import { createCipheriv } from "node:crypto";
import { DecryptError, aesCtr, computeMac, decrypt, deriveUserKey, encrypt, isValidKey, scryptMaxmem } from "./crypto.ts";
import { parseKeyFile, parseMasterKey } from "./keys.ts";
import type { RomixLane } from "./scrypt.ts";
import { mixClaimed } from "./scrypt.ts";
import { masterKeyOf, vectors } from "./testdata/vectors.ts";

const hex = (s: string): Uint8Array => Buffer.from(s.replace(/[^0-9a-f]/g, ""), "hex");

describe("poly1305 (RFC 8439 §2.5.2)", () => {
  it("gives the RFC tag for the unclamped key, so r is clamped inside", () => {
    const key = hex("85:d6:be:78:57:55:6d:33:7f:44:52:fe:42:d5:06:a8:01:03:80:8a:fb:0d:b2:fd:4a:bf:f6:af:41:49:f5:1b");
    const tag = poly1305(Buffer.from("Cryptographic Forum Research Group"), key);
    assert.equal(Buffer.from(tag).toString("hex"), "a8061dc1305136c6c22b8baf0c0127a9");
  });
});

describe("decrypt with keys and files made by restic", () => {
  for (const name of ["v1", "v2"] as const) {
    const v = vectors.repositories[name];
    it(`${name}: config opens with the master key and reads as restic cat config prints it`, () => {
      const plain = decrypt(masterKeyOf(v), Buffer.from(v.config.sealed, "base64"));
      assert.deepEqual(JSON.parse(Buffer.from(plain).toString("utf8")), v.config.plain);
    });
    it(`${name}: encrypt then decrypt gives the plaintext back, and restic's MAC layout`, () => {
      const key = masterKeyOf(v);
      const iv = Buffer.alloc(16, 7);
      const sealed = encrypt(key, Buffer.from("hello"), iv);
      assert.equal(sealed.length, 5 + 32);
      assert.deepEqual(Buffer.from(sealed.subarray(0, 16)), iv);
      assert.deepEqual(sealed.subarray(37 - 16), computeMac(key, iv, sealed.subarray(16, 21)));
      assert.equal(Buffer.from(decrypt(key, sealed)).toString(), "hello");
    });
  }
});

describe("decrypt rejects", () => {
  const v = vectors.repositories.v2;
  const key = masterKeyOf(v);
  const good = Buffer.from(v.config.sealed, "base64");
  const flip = (at: number): Buffer => {
    const copy = Buffer.from(good);
    copy[at] = (copy[at] ?? 0) ^ 0x01;
    return copy;
  };
  const cases: { name: string; data: Uint8Array; reason: string; key?: CryptoKey }[] = [
    { name: "empty input", data: new Uint8Array(0), reason: "TooShort" },
    { name: "31 bytes", data: good.subarray(0, 31), reason: "TooShort" },
    { name: "all-zero IV", data: Buffer.concat([Buffer.alloc(16), good.subarray(16)]), reason: "InvalidNonce" },
    { name: "a flipped IV byte", data: flip(3), reason: "BadMac" },
    { name: "a flipped ciphertext byte", data: flip(20), reason: "BadMac" },
    { name: "a flipped MAC byte", data: flip(good.length - 1), reason: "BadMac" },
    { name: "a truncated file", data: good.subarray(0, good.length - 1), reason: "BadMac" },
    { name: "another repository's key", data: good, reason: "BadMac", key: masterKeyOf(vectors.repositories.v1) },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.throws(
        () => decrypt(c.key ?? key, c.data),
        (err: unknown) => err instanceof DecryptError && err.reason === c.reason,
      );
    });
  }
});

describe("aesCtr matches Node's aes-256-ctr (Go's 128-bit big-endian counter)", () => {
  const key = masterKeyOf(vectors.repositories.v2);
  const ivs = [
    { name: "a random IV", iv: Buffer.from("0123456789abcdef0123456789abcdef", "hex") },
    { name: "the low 64 bits about to wrap", iv: Buffer.from("0000000000000001fffffffffffffffe", "hex") },
    { name: "all 128 bits about to wrap", iv: Buffer.from("fffffffffffffffffffffffffffffffe", "hex") },
  ];
  for (const { name, iv } of ivs) {
    for (const length of [0, 1, 15, 16, 17, 64, 1000]) {
      it(`${name}, ${length} bytes`, () => {
        const input = Buffer.alloc(length, 0xa5);
        const node = createCipheriv("aes-256-ctr", key.encrypt, iv);
        const want = Buffer.concat([node.update(input), node.final()]);
        assert.deepEqual(Buffer.from(aesCtr(key, iv, input)), want);
      });
    }
  }
});

describe("isValidKey", () => {
  const k = masterKeyOf(vectors.repositories.v2);
  const cases: { name: string; key: CryptoKey; valid: boolean }[] = [
    { name: "a real master key", key: k, valid: true },
    { name: "all-zero encrypt", key: { ...k, encrypt: new Uint8Array(32) }, valid: false },
    { name: "all-zero mac.r", key: { ...k, macR: new Uint8Array(16) }, valid: false },
    { name: "short mac.k", key: { ...k, macK: new Uint8Array(8).fill(1) }, valid: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(isValidKey(c.key), c.valid));
});

describe("scrypt", () => {
  it("asks for more memory than Node's 32 MiB default for restic's N=2^15, r=8", () => {
    const need = 128 * 8 * 32768 + 128 * 8 * 9;
    assert.ok(need > 32 * 1024 * 1024 && scryptMaxmem({ N: 32768, r: 8, p: 9 }) > need);
  });
  const v = vectors.repositories.v2;
  const parsed = parseKeyFile(JSON.parse(v.keyFile.json));
  const inThread: RomixLane = async (shared) => mixClaimed(shared);
  const broken: RomixLane = async () => {
    throw new Error("worker gone");
  };
  const ways: { name: string; lanes?: RomixLane[] }[] = [
    { name: "Node's scrypt" },
    { name: "ROMix in two lanes", lanes: [inThread, inThread] },
    { name: "a failing lane (falls back to Node's scrypt)", lanes: [inThread, broken] },
  ];
  for (const w of ways) {
    it(`derives the user key that opens restic's key file (v2 repository): ${w.name}`, async () => {
      const user = await deriveUserKey(vectors.password, parsed.params, w.lanes);
      assert.deepEqual(parseMasterKey(decrypt(user, parsed.sealed)), masterKeyOf(v));
    });
  }
});
