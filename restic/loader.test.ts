import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localBackend } from "./backend.ts";
import type { Backend } from "./backend.ts";
import type { CryptoKey } from "./crypto.ts";
import type { DecodePool } from "./decode-pool.ts";
import { createDecodePool } from "./decode-pool.ts";
import { decodeSnapshotFiles } from "./load.ts";
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

describe("decode pool", () => {
  it("decodes like decodeSnapshotFiles and keeps working after close", async () => {
    const items = [{ id: v2.snapshot.id, bytes: Buffer.from(v2.snapshot.sealed, "base64") }];
    const ctx = { repository: "memory:pool", key, version: 2 as const };
    assert.deepEqual(await pool.decode(ctx, items), decodeSnapshotFiles(ctx, items));
    await pool.close();
    assert.deepEqual(await pool.decode(ctx, items), decodeSnapshotFiles(ctx, items));
  });
  it("refuses a size of 0", () => assert.throws(() => createDecodePool({ size: 0 }), RangeError));
});
