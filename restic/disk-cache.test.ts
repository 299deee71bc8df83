import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CacheSealOptions } from "./disk-cache.ts";
import { cacheFileName, deriveCacheKey, diskCache, openCache, sealCache } from "./disk-cache.ts";
import type { ResticSnapshot } from "./snapshot.ts";
import { parseSnapshot } from "./snapshot.ts";
import { masterKeyOf, vectors } from "./testdata/vectors.ts";

const { v1, v2 } = vectors.repositories;
const repoId = v2.config.plain.id;
const seal: CacheSealOptions = { key: deriveCacheKey(masterKeyOf(v2), repoId), repositoryId: repoId };
const snapshot = parseSnapshot(v2.snapshot.id, v2.snapshot.expected);
const second = parseSnapshot("b".repeat(64), { ...v2.snapshot.expected, time: "2030-01-01T00:00:00Z", tags: ["x"] });

describe("sealCache / openCache", () => {
  it("round-trips the snapshots exactly, frozen", () => {
    const back = openCache(seal, sealCache(seal, [snapshot, second]));
    assert.deepEqual(back, [snapshot, second]);
    assert.ok(back?.every((s) => Object.isFrozen(s) && (s.tags === undefined || Object.isFrozen(s.tags))));
  });

  it("holds neither the password nor any key in clear", () => {
    const file = Buffer.from(sealCache(seal, [snapshot]));
    for (const secret of [Buffer.from(vectors.password), masterKeyOf(v2).encrypt, masterKeyOf(v2).macK, seal.key]) {
      assert.equal(file.indexOf(Buffer.from(secret)), -1);
    }
    assert.equal(file.indexOf(Buffer.from(snapshot.id.slice(0, 16))), -1, "snapshot IDs are encrypted too");
  });

  const good = Buffer.from(sealCache(seal, [snapshot, second]));
  const flip = (at: number): Buffer => {
    const b = Buffer.from(good);
    const i = at < 0 ? b.length + at : at;
    b[i] = (b[i] ?? 0) ^ 0x01;
    return b;
  };
  const other = (id: string): CacheSealOptions => ({ key: deriveCacheKey(masterKeyOf(v2), id), repositoryId: id });
  const cases: { name: string; bytes: Uint8Array; opts?: CacheSealOptions }[] = [
    { name: "empty file", bytes: new Uint8Array(0) },
    { name: "truncated to the header", bytes: good.subarray(0, 20) },
    { name: "truncated by one byte", bytes: good.subarray(0, good.length - 1) },
    { name: "format version changed", bytes: flip(7) },
    { name: "nonce tampered", bytes: flip(10) },
    { name: "ciphertext tampered", bytes: flip(40) },
    { name: "tag tampered", bytes: flip(-1) },
    { name: "another repository's file", bytes: sealCache(other("ab".repeat(32)), [snapshot]) },
    { name: "this repository's name, another repository's key", bytes: sealCache({ key: other("ab".repeat(32)).key, repositoryId: repoId }, [snapshot]) },
    { name: "another master key (another repository, same id)", bytes: sealCache({ key: deriveCacheKey(masterKeyOf(v1), repoId), repositoryId: repoId }, [snapshot]) },
    { name: "plain JSON", bytes: Buffer.from(JSON.stringify({ repository: repoId, snapshots: [snapshot] })) },
  ];
  for (const c of cases) {
    it(`ignores ${c.name}`, () => {
      assert.equal(openCache(c.opts ?? seal, c.bytes), undefined);
    });
  }

  it("ignores a well-sealed file whose entries are not parsed snapshots", () => {
    const bogus = [{ ...snapshot, short_id: "nope" }] as unknown as ResticSnapshot[];
    assert.equal(openCache(seal, sealCache(seal, bogus)), undefined);
    assert.equal(openCache(seal, sealCache(seal, [{ id: "x" } as unknown as ResticSnapshot])), undefined);
  });

  it("keys differ per repository and per master key", () => {
    const keys = [deriveCacheKey(masterKeyOf(v2), repoId), deriveCacheKey(masterKeyOf(v2), "cd"), deriveCacheKey(masterKeyOf(v1), repoId)];
    assert.equal(new Set(keys.map((k) => Buffer.from(k).toString("hex"))).size, 3);
    assert.ok(keys.every((k) => k.length === 32));
  });
});

describe("cacheFileName", () => {
  const cases: { name: string; id: string; want: RegExp }[] = [
    { name: "a 64-hex config id", id: "a1".repeat(32), want: /^(a1){32}\.snapshots$/ },
    { name: "an overlong id is hashed", id: "a".repeat(200), want: /^[0-9a-f]{64}\.snapshots$/ },
    { name: "anything else is hashed", id: "../x", want: /^[0-9a-f]{64}\.snapshots$/ },
  ];
  for (const c of cases) it(c.name, () => assert.match(cacheFileName(c.id), c.want));
});

describe("diskCache files", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pw-restic-disk-cache-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("absent, then saved atomically (no temporary file left, private modes), then loaded", async () => {
    const cache = diskCache({ dir: join(dir, "a", "b"), repositoryId: repoId, masterKey: masterKeyOf(v2) });
    assert.deepEqual(await cache.load(), { state: "absent", snapshots: [] });
    await cache.save([snapshot]);
    assert.deepEqual(await readdir(join(dir, "a", "b")), [cacheFileName(repoId)]);
    assert.equal((await stat(cache.path)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, "a", "b"))).mode & 0o777, 0o700);
    assert.deepEqual(await cache.load(), { state: "loaded", snapshots: [snapshot] });
  });

  it("a damaged file is unusable, not an error", async () => {
    const cache = diskCache({ dir, repositoryId: repoId, masterKey: masterKeyOf(v2) });
    await cache.save([snapshot]);
    const bytes = await readFile(cache.path);
    await writeFile(cache.path, bytes.subarray(0, bytes.length - 5));
    assert.deepEqual(await cache.load(), { state: "unusable", snapshots: [] });
  });

  it("a save into a path that cannot be a directory throws (the repository logs it)", async () => {
    const file = join(dir, "plain-file");
    await writeFile(file, "x");
    const cache = diskCache({ dir: file, repositoryId: repoId, masterKey: masterKeyOf(v2) });
    await assert.rejects(cache.save([snapshot]));
    assert.equal((await cache.load()).state, "unusable");
  });
});
