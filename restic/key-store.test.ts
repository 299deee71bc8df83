import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FoundKey } from "./keys.ts";
import { holdsKeys, keyFileName, keyStore, layeredKeyStore, openKey, sealKey } from "./key-store.ts";
import type { KeyStore } from "./key-store.ts";

const location = "local:/srv/repo";
const password = "correct horse";
const entry: FoundKey = {
  keyId: "ab".repeat(32),
  key: { encrypt: Buffer.alloc(32, 1), macK: Buffer.alloc(16, 2), macR: Buffer.alloc(16, 3) },
};
const sealed = sealKey(location, password, entry);

describe("openKey", () => {
  it("opens what sealKey sealed", () => {
    assert.deepEqual(openKey(location, password, sealed), entry);
  });

  const rejected: { name: string; location?: string; password?: string; file: () => Uint8Array }[] = [
    { name: "another password", password: "Correct horse", file: () => sealed },
    { name: "another location", location: "local:/srv/other", file: () => sealed },
    { name: "a flipped ciphertext byte", file: () => Buffer.from(sealed).fill(0x41, 40, 41) },
    { name: "a flipped tag byte", file: () => Buffer.from(sealed).fill(0, sealed.length - 1) },
    { name: "a truncated file", file: () => sealed.subarray(0, sealed.length - 20) },
    { name: "an empty file", file: () => new Uint8Array(0) },
    { name: "another format's magic", file: () => Buffer.concat([Buffer.from("PWRSNAP\x01"), Buffer.from(sealed).subarray(8)]) },
    { name: "an oversized file", file: () => Buffer.concat([sealed, Buffer.alloc(8192)]) },
    { name: "an entry with a key id that is not hex", file: () => sealKey(location, password, { ...entry, keyId: "../../etc" }) },
    { name: "an all-zero key", file: () => sealKey(location, password, { ...entry, key: { encrypt: Buffer.alloc(32), macK: Buffer.alloc(16), macR: Buffer.alloc(16) } }) },
  ];
  for (const c of rejected) {
    it(`finds nothing in ${c.name}`, () => {
      assert.equal(openKey(c.location ?? location, c.password ?? password, c.file()), undefined);
    });
  }

  it("draws a new salt and nonce per seal", () => {
    assert.notDeepEqual(sealKey(location, password, entry), sealed);
  });
});

describe("keyStore", () => {
  it("saves a private file per location and loads it back; nothing for a missing directory", async () => {
    const root = await mkdtemp(join(tmpdir(), "pw-key-store-"));
    try {
      const dir = join(root, "cache");
      const store = keyStore(dir);
      assert.equal(await store.load(location, password), undefined);
      await store.save(location, password, entry);
      assert.deepEqual(await store.load(location, password), entry);
      assert.equal(await store.load(location, "wrong"), undefined);
      const path = join(dir, keyFileName(location));
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      assert.equal((await stat(dir)).mode & 0o777, 0o700);
      assert.ok(!(await readFile(path)).includes(Buffer.from(password)), "the password is not in the file");
      await writeFile(path, "junk");
      assert.equal(await store.load(location, password), undefined);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

/** A store in memory that counts its calls; `fails` makes its saves reject. */
function memoryStore(fails = false): KeyStore & { readonly entries: Map<string, FoundKey>; saves: number } {
  const entries = new Map<string, FoundKey>();
  const store = {
    entries,
    saves: 0,
    load: async (loc: string, pw: string) => entries.get(`${loc}\n${pw}`),
    save: async (loc: string, pw: string, e: FoundKey) => {
      store.saves++;
      if (fails) throw new Error("store down");
      entries.set(`${loc}\n${pw}`, e);
    },
  };
  return store;
}

describe("layeredKeyStore", () => {
  it("answers from the first store that holds the entry and copies it into the ones before", async () => {
    const [first, second, third] = [memoryStore(), memoryStore(), memoryStore()];
    await third.save(location, password, entry);
    const layered = layeredKeyStore([first, second, third]);
    assert.deepEqual(await layered.load(location, password), entry);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual([first.entries.size, second.entries.size], [1, 1]);
    assert.equal(await layered.load(location, "wrong"), undefined);
  });

  it("saves to every store; one failing store fails the save after the others were written", async () => {
    const [ok, down] = [memoryStore(), memoryStore(true)];
    await assert.rejects(layeredKeyStore([down, ok]).save(location, password, entry), /store down/);
    assert.deepEqual(await ok.load(location, password), entry);
    assert.equal(down.saves, 1);
  });
});

describe("holdsKeys: whether a cache directory holds stored keys (a restarted container)", () => {
  const cases: { name: string; files: string[] | undefined; holds: boolean }[] = [
    { name: "no directory", files: undefined, holds: false },
    { name: "an empty directory (a new pod's emptyDir)", files: [], holds: false },
    { name: "only snapshot caches", files: ["abc.snapshots"], holds: false },
    { name: "a stored key", files: ["abc.snapshots", keyFileName("local:/repo")], holds: true },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const root = await mkdtemp(join(tmpdir(), "pw-holds-keys-"));
      try {
        const dir = join(root, "cache");
        if (c.files !== undefined) {
          await mkdir(dir);
          for (const f of c.files) await writeFile(join(dir, f), "x");
        }
        assert.equal(holdsKeys(dir), c.holds);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });
  }
});
