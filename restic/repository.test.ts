import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Backend } from "./backend.ts";
import type { CryptoKey } from "./crypto.ts";
import { encrypt } from "./crypto.ts";
import { BackendNotFoundError, ResticRepoError } from "./errors.ts";
import { keyCacheKey, openRepository, parseConfig } from "./repository.ts";
import type { KeyCache } from "./repository.ts";
import { countingBackend, memoryBackend, sealSnapshot } from "./testing.ts";
import { masterKeyOf, repoFiles, vectors } from "./testdata/vectors.ts";

const { v1, v2 } = vectors.repositories;
const password = vectors.password;
/** One scrypt per repository vector for the whole file. */
const sharedKeys: KeyCache = new Map<string, Promise<CryptoKey>>();

function v2Repo(name = "memory:v2") {
  const files = repoFiles(v2);
  const backend = countingBackend(memoryBackend(files, name));
  return { files, backend };
}

describe("openRepository + listSnapshots on files made by restic", () => {
  for (const v of [v1, v2]) {
    it(`v${v.version}: lists the snapshot exactly as restic snapshots --json prints it`, async () => {
      const repo = await openRepository({ backend: memoryBackend(repoFiles(v), `memory:v${v.version}`), password, keyCache: sharedKeys });
      assert.equal(repo.id, v.config.plain.id);
      assert.equal(repo.version, v.version);
      const { snapshots, errors } = await repo.listSnapshots();
      assert.deepEqual(errors, []);
      assert.deepEqual(snapshots, [v.snapshot.expected]);
    });
  }
});

describe("caches", () => {
  it("a second list reads no snapshot file; a second open reads no key file", async () => {
    const { backend } = v2Repo();
    const repo = await openRepository({ backend, password, keyCache: sharedKeys });
    await repo.listSnapshots();
    const readsAfterFirst = backend.reads.length;
    const again = await repo.listSnapshots();
    assert.equal(again.snapshots.length, 1);
    assert.deepEqual(backend.reads.slice(readsAfterFirst), []);
    await openRepository({ backend, password, keyCache: sharedKeys });
    assert.deepEqual(backend.reads.slice(readsAfterFirst), ["config"]);
  });

  it("snapshots/ is listed while the key is derived, and that listing serves the first listSnapshots", async () => {
    const { backend } = v2Repo("memory:prefetch");
    const repo = await openRepository({ backend, password, keyCache: new Map() });
    assert.deepEqual(backend.lists.filter((d) => d === "snapshots"), ["snapshots"]);
    assert.ok(backend.lists.indexOf("snapshots") < backend.lists.indexOf("keys"), "listed before the key search");
    assert.equal((await repo.listSnapshots()).snapshots.length, 1);
    assert.deepEqual(backend.lists.filter((d) => d === "snapshots"), ["snapshots"]);
    await repo.listSnapshots();
    assert.deepEqual(backend.lists.filter((d) => d === "snapshots"), ["snapshots", "snapshots"]);
  });

  it("a cached key that no longer opens config (re-initialised repository) is replaced", async () => {
    const files = repoFiles(v2);
    const backend = memoryBackend(files, "memory:reinit");
    const keyCache: KeyCache = new Map([[keyCacheKey(backend, password), Promise.resolve(masterKeyOf(v1))]]);
    const repo = await openRepository({ backend, password, keyCache });
    assert.equal(repo.id, v2.config.plain.id);
    assert.deepEqual(await keyCache.get(keyCacheKey(backend, password)), masterKeyOf(v2));
  });

  it("the key cache is keyed by repository and a password digest, never the password", () => {
    const k = keyCacheKey(memoryBackend(new Map(), "memory:x"), "s3cret-pw");
    assert.ok(k.startsWith("memory:x\n") && !k.includes("s3cret-pw"));
    assert.notEqual(k, keyCacheKey(memoryBackend(new Map(), "memory:x"), "other"));
  });

  it("evicts snapshots that are no longer listed", async () => {
    const { files, backend } = v2Repo();
    const repo = await openRepository({ backend, password, keyCache: sharedKeys });
    assert.equal((await repo.listSnapshots()).snapshots.length, 1);
    files.delete(`snapshots/${v2.snapshot.id}`);
    assert.deepEqual((await repo.listSnapshots()).snapshots, []);
  });
});

describe("damaged snapshot files are reported, the others returned", () => {
  it("hash mismatch, foreign key, bad JSON shape, and a file gone before it is read", async () => {
    const { files, backend } = v2Repo();
    const key = masterKeyOf(v2);
    const flipped = Buffer.from(files.get(`snapshots/${v2.snapshot.id}`) ?? []);
    flipped[40] = (flipped[40] ?? 0) ^ 0xff;
    const foreign = sealSnapshot(masterKeyOf(v1), 2, { time: "2025-01-01T00:00:00Z", tree: "a".repeat(64) });
    const noTree = sealSnapshot(key, 2, { time: "2025-01-01T00:00:00Z" });
    const hashMismatch = "e".repeat(64);
    files.set(`snapshots/${hashMismatch}`, flipped);
    files.set(`snapshots/${foreign.id}`, foreign.bytes);
    files.set(`snapshots/${noTree.id}`, noTree.bytes);
    files.set("snapshots/not-an-id", Buffer.from("ignored"));
    const gone = "f".repeat(64);
    const vanishing: Backend = { ...backend, list: async (dir) => [...(await backend.list(dir)), ...(dir === "snapshots" ? [gone] : [])] };
    const repo = await openRepository({ backend: vanishing, password, keyCache: sharedKeys });
    const { snapshots, errors } = await repo.listSnapshots();
    assert.deepEqual(snapshots.map((s) => s.id), [v2.snapshot.id]);
    const byId = new Map(errors.map((e) => [e.id, e]));
    assert.deepEqual([...byId.keys()].sort(), [hashMismatch, foreign.id, noTree.id].sort());
    assert.ok(errors.every((e) => e.code === "CorruptFile" && e.message.includes("memory:v2")));
    assert.match(byId.get(hashMismatch)?.message ?? "", /content hash .* does not match/);
    assert.match(byId.get(foreign.id)?.message ?? "", /does not decrypt with the repository key/);
    assert.match(byId.get(noTree.id)?.message ?? "", /tree must be/);
    assert.equal(backend.reads.filter((p) => p === `snapshots/${hashMismatch}`).length, 2, "re-read once on a hash mismatch");
  });

  it("a storage failure while listing is thrown, not reported per file", async () => {
    const { backend } = v2Repo();
    const repo = await openRepository({ backend, password, keyCache: sharedKeys });
    await repo.listSnapshots();
    const down = new ResticRepoError({ code: "BackendUnreachable", repository: "memory:v2", detail: "down" });
    backend.list = async () => {
      throw down;
    };
    await assert.rejects(repo.listSnapshots(), down);
  });

  it("a failure of the listing started while opening surfaces in the first listing, then it lists again", async () => {
    const { backend } = v2Repo();
    const down = new ResticRepoError({ code: "BackendUnreachable", repository: "memory:v2", detail: "down" });
    const list = backend.list;
    backend.list = async (dir) => {
      if (dir === "snapshots") throw down;
      return list(dir);
    };
    const repo = await openRepository({ backend, password, keyCache: sharedKeys });
    backend.list = list;
    await assert.rejects(repo.listSnapshots(), down);
    assert.equal((await repo.listSnapshots()).snapshots.length, 1);
  });
});

describe("forgetSnapshot", () => {
  it("removes the file and the cache entry; forgetting again succeeds", async () => {
    const { files, backend } = v2Repo();
    const repo = await openRepository({ backend, password, keyCache: sharedKeys });
    await repo.listSnapshots();
    await repo.forgetSnapshot(v2.snapshot.id);
    assert.equal(files.has(`snapshots/${v2.snapshot.id}`), false);
    assert.deepEqual((await repo.listSnapshots()).snapshots, []);
    await repo.forgetSnapshot(v2.snapshot.id);
  });
  for (const bad of ["", "17e1987e", "../config", "A".repeat(64)]) {
    it(`refuses the id ${JSON.stringify(bad)}`, async () => {
      const repo = await openRepository({ backend: v2Repo().backend, password, keyCache: sharedKeys });
      await assert.rejects(repo.forgetSnapshot(bad), RangeError);
    });
  }
});

describe("opening fails with a typed error naming the repository", () => {
  const sealConfig = (doc: unknown): Uint8Array => encrypt(masterKeyOf(v2), Buffer.from(JSON.stringify(doc)));
  const cases: { name: string; change: (files: Map<string, Uint8Array>) => void; code: string; pw?: string }[] = [
    { name: "no config", change: (f) => f.delete("config"), code: "RepositoryNotFound" },
    { name: "repository version 3", change: (f) => f.set("config", sealConfig({ version: 3, id: "ab" })), code: "UnsupportedVersion" },
    { name: "config damaged", change: (f) => f.set("config", sealConfig({ version: 2, id: "ab" }).fill(1, 20, 22)), code: "CorruptFile" },
    { name: "a wrong password", change: () => undefined, code: "WrongPassword", pw: "not-the-password" },
  ];
  for (const c of cases) {
    it(`${c.code} for ${c.name}`, async () => {
      const files = repoFiles(v2);
      c.change(files);
      const keyCache = c.pw === undefined ? sharedKeys : new Map<string, Promise<CryptoKey>>();
      await assert.rejects(openRepository({ backend: memoryBackend(files, "memory:broken"), password: c.pw ?? password, keyCache }), (e: unknown) => {
        return e instanceof ResticRepoError && e.code === c.code && e.message.startsWith("restic repository memory:broken");
      });
    });
  }

  it("a failed key search is not cached", async () => {
    const keyCache = new Map<string, Promise<CryptoKey>>();
    const files = new Map([["config", Buffer.from(v2.config.sealed, "base64")]]);
    await assert.rejects(openRepository({ backend: memoryBackend(files), password, keyCache }), { code: "WrongPassword" });
    assert.equal(keyCache.size, 0);
  });
});

describe("parseConfig", () => {
  const cases: { name: string; json: string; want: { id: string; version: number } | string }[] = [
    { name: "v2", json: JSON.stringify(v2.config.plain), want: { id: v2.config.plain.id, version: 2 } },
    { name: "v1", json: JSON.stringify(v1.config.plain), want: { id: v1.config.plain.id, version: 1 } },
    { name: "version as text", json: '{"version":"2","id":"ab"}', want: "UnsupportedVersion" },
    { name: "no id", json: '{"version":2}', want: "CorruptFile" },
    { name: "compressed (config never is)", json: "\u0002xx", want: "CorruptFile" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const run = (): unknown => parseConfig("memory:c", Buffer.from(c.json));
      if (typeof c.want === "string") assert.throws(run, { code: c.want });
      else assert.deepEqual(run(), c.want);
    });
  }
});

describe("BackendNotFoundError", () => {
  it("names the backend and the path", () => {
    assert.match(new BackendNotFoundError("local:/r", "snapshots/x").message, /local:\/r: file snapshots\/x does not exist/);
  });
});
