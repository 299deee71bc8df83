import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { KeyFileError, MAX_KEYS_TRIED, findMasterKey, parseKeyFile, parseMasterKey } from "./keys.ts";
import { encrypt } from "./crypto.ts";
import type { CryptoKey, ScryptParams } from "./crypto.ts";
import { ResticRepoError } from "./errors.ts";
import { countingBackend, memoryBackend } from "./testing.ts";
import { masterKeyOf, vectors } from "./testdata/vectors.ts";

const v2 = vectors.repositories.v2;
const realKeyFile = JSON.parse(v2.keyFile.json) as Record<string, unknown>;

describe("parseKeyFile", () => {
  it("reads restic's key file", () => {
    const k = parseKeyFile(realKeyFile);
    assert.deepEqual([k.params.N, k.params.r, k.params.p, k.params.salt.length], [32768, 8, realKeyFile.p, 64]);
  });
  const bad: { name: string; patch: Record<string, unknown>; field: RegExp }[] = [
    { name: "another kdf", patch: { kdf: "argon2" }, field: /^kdf/ },
    { name: "N not a power of two", patch: { N: 1000 }, field: /^N must be a power/ },
    { name: "N as text", patch: { N: "32768" }, field: /^N must be a positive/ },
    { name: "r zero", patch: { r: 0 }, field: /^r must/ },
    { name: "N needing more than 1 GiB", patch: { N: 2 ** 21 }, field: /exceed/ },
    { name: "a short salt", patch: { salt: Buffer.alloc(32, 1).toString("base64") }, field: /^salt must be 64 bytes/ },
    { name: "data not base64", patch: { data: "***" }, field: /^data must be standard base64/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => {
      assert.throws(() => parseKeyFile({ ...realKeyFile, ...c.patch }), (e: unknown) => e instanceof KeyFileError && c.field.test(e.message));
    });
  }
});

describe("parseMasterKey", () => {
  const json = (o: unknown): Uint8Array => Buffer.from(JSON.stringify(o));
  it("reads the JSON restic seals", () => assert.deepEqual(parseMasterKey(json(v2.masterKey)), masterKeyOf(v2)));
  it("rejects an all-zero key", () => {
    const zero = { mac: { k: Buffer.alloc(16).toString("base64"), r: Buffer.alloc(16).toString("base64") }, encrypt: Buffer.alloc(32).toString("base64") };
    assert.throws(() => parseMasterKey(json(zero)), KeyFileError);
  });
  it("rejects text that is not JSON", () => assert.throws(() => parseMasterKey(Buffer.from("{")), KeyFileError));
});

/** A cheap stand-in for scrypt: the "derived" key is fixed per password. */
const fakeDerive = async (password: string, _p: ScryptParams): Promise<CryptoKey> => ({
  encrypt: Buffer.alloc(32, password),
  macK: Buffer.alloc(16, password),
  macR: Buffer.alloc(16, `${password}r`),
});

async function keyFileFor(password: string): Promise<Uint8Array> {
  const user = await fakeDerive(password, { N: 2, r: 1, p: 1, salt: new Uint8Array(64) });
  const plain = Buffer.from(JSON.stringify(v2.masterKey));
  const data = Buffer.from(encrypt(user, plain)).toString("base64");
  return Buffer.from(JSON.stringify({ ...realKeyFile, data }));
}

const id = (n: number): string => n.toString(16).padStart(64, "0");

describe("findMasterKey", () => {
  it("opens the second key file when the first is for another password", async () => {
    const files = new Map([
      [`keys/${id(1)}`, await keyFileFor("other")],
      [`keys/${id(2)}`, await keyFileFor("right")],
    ]);
    const key = await findMasterKey({ backend: memoryBackend(files), password: "right", derive: fakeDerive });
    assert.deepEqual(key, masterKeyOf(v2));
  });

  const failing: { name: string; files: () => Promise<Map<string, Uint8Array>>; code: string; message: RegExp }[] = [
    { name: "no key files", files: async () => new Map(), code: "WrongPassword", message: /no key files/ },
    { name: "only other passwords", files: async () => new Map([[`keys/${id(1)}`, await keyFileFor("other")]]), code: "WrongPassword", message: /wrong password: none of the 1 key files/ },
    { name: "only damaged key files", files: async () => new Map([[`keys/${id(1)}`, Buffer.from("not json")]]), code: "CorruptFile", message: /none of the 1 key files is a valid/ },
  ];
  for (const c of failing) {
    it(`fails with ${c.code} for ${c.name}, naming the repository`, async () => {
      await assert.rejects(findMasterKey({ backend: memoryBackend(await c.files(), "memory:repo-a"), password: "right", derive: fakeDerive }), (e: unknown) => {
        return e instanceof ResticRepoError && e.code === c.code && c.message.test(e.message) && e.message.includes("memory:repo-a") && !e.message.includes("right");
      });
    });
  }

  it(`tries at most ${MAX_KEYS_TRIED} key files and ignores names that are not IDs`, async () => {
    const files = new Map<string, Uint8Array>([["keys/README", Buffer.from("x")]]);
    for (let i = 1; i <= MAX_KEYS_TRIED + 1; i++) files.set(`keys/${id(i)}`, await keyFileFor(i === MAX_KEYS_TRIED + 1 ? "right" : "other"));
    const backend = countingBackend(memoryBackend(files));
    await assert.rejects(findMasterKey({ backend, password: "right", derive: fakeDerive }), { code: "WrongPassword" });
    assert.equal(backend.reads.length, MAX_KEYS_TRIED);
  });

  it("opens restic's own key file with real scrypt", async () => {
    const files = new Map([[`keys/${v2.keyFile.id}`, Buffer.from(v2.keyFile.json)]]);
    assert.deepEqual(await findMasterKey({ backend: memoryBackend(files), password: vectors.password }), masterKeyOf(v2));
  });
});
