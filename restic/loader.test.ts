import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localBackend } from "./backend.ts";
import type { Backend } from "./backend.ts";
import type { CryptoKey } from "./crypto.ts";
import type { DecodePool, PoolOutcome } from "./decode-pool.ts";
import { createDecodePool } from "./decode-pool.ts";
import { decodeSnapshotFile, decodeSnapshotFiles, sha256Hex } from "./load.ts";
import { POOL_MIN_FILES } from "./loader.ts";
import { openRepository } from "./repository.ts";
import type { ListResult } from "./repository.ts";
import { countingBackend, memoryBackend, sealSnapshot } from "./testing.ts";
import { masterKeyOf, repoFiles, vectors } from "./testdata/vectors.ts";

const v2 = vectors.repositories.v2;
const key = masterKeyOf(v2);
const password = vectors.password;
const keyCache = new Map<string, Promise<CryptoKey>>();
const COUNT = POOL_MIN_FILES + 44;

/** The vector repository plus COUNT synthetic snapshots, one with a damaged byte. */
function bigRepoFiles(): { files: Map<string, Uint8Array>; damaged: string } {
  const files = repoFiles(v2);
  const { id: _id, short_id: _s, ...template } = v2.snapshot.expected;
  for (let i = 0; i < COUNT; i++) {
    const doc = { ...template, time: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString(), tags: [`run=r${i}`] };
    const { id, bytes } = sealSnapshot(key, 2, doc);
    files.set(`snapshots/${id}`, bytes);
  }
  const damaged = [...files.keys()].filter((p) => p.startsWith("snapshots/"))[7] ?? "";
  const bytes = Buffer.from(files.get(damaged) ?? []);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
  files.set(damaged, bytes);
  return { files, damaged: damaged.slice("snapshots/".length) };
}

async function list(backend: Backend, decodePool: DecodePool | null): Promise<ListResult> {
  const repo = await openRepository({ backend, password, keyCache, decodePool });
  return repo.listSnapshots();
}

const failingPool: DecodePool = {
  size: 2,
  decode: async () => {
    throw new Error("worker gone");
  },
  readAndDecode: async () => {
    throw new Error("worker gone");
  },
  romix: async () => {
    throw new Error("worker gone");
  },
  prestart: () => undefined,
  close: async () => undefined,
};

let root = "";
let pool: DecodePool;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "pw-restic-loader-"));
  pool = createDecodePool({ size: 2 });
});
after(async () => {
  await pool.close();
  await rm(root, { recursive: true, force: true });
});

describe(`large listings (≥ ${POOL_MIN_FILES} files) give the same result on every path`, () => {
  it("backend reads + worker decode = inline = inline after a worker failure", async () => {
    const { files, damaged } = bigRepoFiles();
    const inline = await list(memoryBackend(files), null);
    assert.equal(inline.snapshots.length, COUNT);
    assert.deepEqual(inline.errors.map((e) => [e.id, e.code]), [[damaged, "CorruptFile"]]);
    assert.deepEqual(await list(memoryBackend(files), pool), inline);
    assert.deepEqual(await list(memoryBackend(files), failingPool), inline);
    assert.ok((await list(memoryBackend(files), pool)).snapshots.every((s) => Object.isFrozen(s) && Object.isFrozen(s.paths)));
  });

  it("local repository: workers read the files; unusable entries are reported per file", async () => {
    const { files, damaged } = bigRepoFiles();
    const dir = join(root, "repo");
    for (const sub of ["snapshots", "keys"]) await mkdir(join(dir, sub), { recursive: true });
    for (const [path, bytes] of files) await writeFile(join(dir, path), bytes);
    const folder = "d".repeat(64);
    await mkdir(join(dir, "snapshots", folder));
    const viaWorkers = await list(localBackend(dir), pool);
    const inline = await list(countingBackend(localBackend(dir)), null);
    assert.equal(viaWorkers.snapshots.length, COUNT);
    assert.deepEqual(viaWorkers.snapshots, inline.snapshots);
    assert.deepEqual(viaWorkers.errors.map((e) => e.id).sort(), [damaged, folder].sort());
    assert.deepEqual(viaWorkers.errors, inline.errors);
    assert.match(viaWorkers.errors.find((e) => e.id === folder)?.message ?? "", /cannot be read as a file/);
    assert.deepEqual(await list(localBackend(dir), failingPool), inline);
  });
});

describe("a listing's batches", () => {
  const cases: { name: string; pool: () => DecodePool | null }[] = [
    { name: "inline", pool: () => null },
    { name: "in the decode pool", pool: () => pool },
    { name: "after a worker failure", pool: () => failingPool },
  ];
  for (const c of cases) {
    it(`${c.name}: tell every listed snapshot once, the first listing as it is read, a second in one batch`, async () => {
      const { files } = bigRepoFiles();
      const repo = await openRepository({ backend: memoryBackend(files), password, keyCache, decodePool: c.pool() });
      const told: string[][] = [];
      const first = await repo.listSnapshots((batch) => told.push(batch.map((s) => s.id)));
      assert.ok(told.length > 1, "several batches");
      assert.deepEqual(told.flat().sort(), first.snapshots.map((s) => s.id).sort());
      told.length = 0;
      const second = await repo.listSnapshots((batch) => told.push(batch.map((s) => s.id)));
      assert.equal(told.length, 1, "all cached: one batch");
      assert.deepEqual(told.flat().sort(), second.snapshots.map((s) => s.id).sort());
    });
  }
});

describe("decode pool", () => {
  const ctx = { repository: "memory:pool", key, version: 2 as const };
  it("decodes like decodeSnapshotFiles and keeps working after close", async () => {
    const items = [{ id: v2.snapshot.id, bytes: Buffer.from(v2.snapshot.sealed, "base64") }];
    assert.deepEqual(await pool.decode(ctx, items), decodeSnapshotFiles(ctx, items));
    await pool.close();
    assert.deepEqual(await pool.decode(ctx, items), decodeSnapshotFiles(ctx, items));
  });
  it("refuses a size of 0", () => assert.throws(() => createDecodePool({ size: 0 }), RangeError));

  it("prestarted: decodes as usual; prestart again, or after close, is harmless", async () => {
    const items = [{ id: v2.snapshot.id, bytes: Buffer.from(v2.snapshot.sealed, "base64") }];
    const early = createDecodePool({ size: 2 });
    try {
      early.prestart();
      early.prestart();
      assert.deepEqual(await early.decode(ctx, items), decodeSnapshotFiles(ctx, items));
      early.prestart();
      await early.close();
      early.prestart();
      assert.deepEqual(await early.decode(ctx, items), decodeSnapshotFiles(ctx, items));
    } finally {
      await early.close();
    }
  });

  it("reads local files in a worker: each kind of entry gets its outcome, in order", async () => {
    const dir = join(root, "pool-read");
    await mkdir(join(dir, "snapshots", "f".repeat(64)), { recursive: true });
    const { id: _id, short_id: _s, ...template } = v2.snapshot.expected;
    const sealed = (doc: object) => sealSnapshot(key, 2, doc);
    const small = sealed(template);
    // Tags that do not compress: the file is larger than the worker's first read buffer (64 KiB).
    const big = sealed({ ...template, tags: Array.from({ length: 3000 }, (_, i) => sha256Hex(Buffer.from(String(i)))) });
    assert.ok(big.bytes.length > 64 * 1024, `the big file has ${big.bytes.length} bytes`);
    const damaged = Buffer.from(sealed({ ...template, hostname: "damaged" }).bytes);
    damaged[damaged.length - 1] = (damaged[damaged.length - 1] ?? 0) ^ 1;
    const damagedId = sha256Hex(damaged);
    const renamed = "e".repeat(64);
    for (const [id, bytes] of [[small.id, small.bytes], [big.id, big.bytes], [damagedId, damaged], [renamed, small.bytes]] as const) {
      await writeFile(join(dir, "snapshots", id), bytes);
    }
    const cases: { name: string; id: string; check: (o: PoolOutcome) => void }[] = [
      { name: "a snapshot", id: small.id, check: (o) => assert.deepEqual(o, decodeSnapshotFile(ctx, small.id, small.bytes)) },
      { name: `a ${big.bytes.length}-byte snapshot`, id: big.id, check: (o) => assert.deepEqual(o, decodeSnapshotFile(ctx, big.id, big.bytes)) },
      { name: "a file that is gone", id: "a".repeat(64), check: (o) => assert.deepEqual(o, { id: "a".repeat(64), gone: true }) },
      { name: "a damaged file", id: damagedId, check: (o) => assert.match("error" in o ? o.error.message : "", /does not decrypt/) },
      { name: "content under another name (read twice)", id: renamed, check: (o) => assert.match("error" in o ? o.error.message : "", /content hash/) },
      { name: "a folder", id: "f".repeat(64), check: (o) => assert.equal("ioError" in o ? o.ioError.code : undefined, "EISDIR") },
      { name: "the snapshot again, after all that", id: small.id, check: (o) => assert.deepEqual(o, decodeSnapshotFile(ctx, small.id, small.bytes)) },
    ];
    const outcomes = await pool.readAndDecode(ctx, dir, cases.map((c) => c.id));
    cases.forEach((c, i) => {
      const o = outcomes[i] as PoolOutcome;
      assert.equal(o.id, c.id, c.name);
      c.check(o);
    });
    assert.ok(outcomes.every((o) => !("snapshot" in o) || Object.isFrozen(o.snapshot.tags)));
  });
});

describe("the workers start while the key is opened, for a large listing with no snapshot cache to read it from", () => {
  const cases: { name: string; large: boolean; cache: "none" | "empty" | "holds"; prestarts: boolean }[] = [
    { name: "large, no cache directory", large: true, cache: "none", prestarts: true },
    { name: "large, an empty cache directory (a new pod)", large: true, cache: "empty", prestarts: true },
    { name: "large, a cache directory holding snapshot caches (a restarted container)", large: true, cache: "holds", prestarts: false },
    { name: "small", large: false, cache: "none", prestarts: false },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const dir = join(root, `prestart-${cases.indexOf(c)}`);
      if (c.cache !== "none") await mkdir(dir, { recursive: true });
      if (c.cache === "holds") await writeFile(join(dir, `${"cd".repeat(32)}.snapshots`), "x");
      let prestarts = 0;
      const counting: DecodePool = { ...failingPool, prestart: () => void prestarts++ };
      const files = c.large ? bigRepoFiles().files : repoFiles(v2);
      await openRepository({ backend: memoryBackend(files, `memory:prestart-${cases.indexOf(c)}`), password, keyCache, decodePool: counting, ...(c.cache === "none" ? {} : { cacheDir: dir }) });
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(prestarts > 0, c.prestarts);
    });
  }
});
