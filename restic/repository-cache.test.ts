import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { Logger } from "../kube/log.ts";
import type { CryptoKey } from "./crypto.ts";
import { cacheFileName, deriveCacheKey, diskCache, sealCache } from "./disk-cache.ts";
import { openRepository } from "./repository.ts";
import type { OpenRepositoryOptions, Repository } from "./repository.ts";
import type { CountingBackend } from "./testing.ts";
import { countingBackend, memoryBackend, sealSnapshot } from "./testing.ts";
import { masterKeyOf, repoFiles, vectors } from "./testdata/vectors.ts";

const { v1, v2 } = vectors.repositories;
const password = vectors.password;
const repoId = v2.config.plain.id;
/** One scrypt for the whole file; every "process" below still gets its own snapshot caches. */
const keyCache = new Map<string, Promise<CryptoKey>>();

let root = "";
let n = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "pw-restic-repo-cache-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A v2 repository with `extra` more snapshots, and a fresh cache directory. */
function fixture(extra = 2): { files: Map<string, Uint8Array>; cacheDir: string; ids: string[] } {
  const files = repoFiles(v2);
  const { id: _id, short_id: _s, ...doc } = v2.snapshot.expected;
  for (let i = 0; i < extra; i++) {
    const { id, bytes } = sealSnapshot(masterKeyOf(v2), 2, { ...doc, time: `2031-01-0${i + 1}T00:00:00Z`, tags: [`run=r${i}`] });
    files.set(`snapshots/${id}`, bytes);
  }
  const ids = [...files.keys()].filter((p) => p.startsWith("snapshots/")).map((p) => p.slice(10));
  return { files, cacheDir: join(root, `cache-${n++}`), ids };
}

/** A new "process": its own backend wrapper and in-memory cache, the same disk cache directory. */
async function freshOpen(files: Map<string, Uint8Array>, cacheDir: string, extra: Partial<OpenRepositoryOptions> = {}): Promise<{ repo: Repository; backend: CountingBackend }> {
  const backend = countingBackend(memoryBackend(files, "memory:cache"));
  const repo = await openRepository({ backend, password, keyCache, cacheDir, ...extra });
  return { repo, backend };
}

async function listIds(repo: Repository): Promise<string[]> {
  const { snapshots, errors } = await repo.listSnapshots();
  assert.deepEqual(errors, []);
  await repo.flushCache();
  return snapshots.map((s) => s.id).sort();
}

const snapshotReads = (b: CountingBackend): string[] => b.reads.filter((p) => p.startsWith("snapshots/"));
const cachePath = (dir: string): string => join(dir, cacheFileName(repoId));
const cachedIds = async (dir: string): Promise<string[]> => {
  const load = await diskCache({ dir, repositoryId: repoId, masterKey: masterKeyOf(v2) }).load();
  return load.snapshots.map((s) => s.id).sort();
};

function capturingLog(): { log: Logger; messages: string[] } {
  const messages: string[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => messages.push(String((JSON.parse(line) as { msg?: unknown }).msg)) });
  return { log, messages };
}

describe("disk snapshot cache through openRepository", () => {
  it("round-trips: a second process reads no snapshot file and lists the same snapshots", async () => {
    const { files, cacheDir, ids } = fixture();
    const first = await freshOpen(files, cacheDir);
    const listed = await first.repo.listSnapshots();
    await first.repo.flushCache();
    assert.deepEqual(snapshotReads(first.backend).sort(), ids.map((id) => `snapshots/${id}`).sort());
    assert.deepEqual(await cachedIds(cacheDir), ids.sort());
    const second = await freshOpen(files, cacheDir);
    assert.deepEqual(await second.repo.listSnapshots(), listed);
    assert.deepEqual(snapshotReads(second.backend), []);
  });

  it("a snapshot added after the cache was written is fetched, alone, and then cached", async () => {
    const { files, cacheDir } = fixture();
    await listIds((await freshOpen(files, cacheDir)).repo);
    const added = sealSnapshot(masterKeyOf(v2), 2, { ...v2.snapshot.expected, time: "2032-05-06T07:08:09Z" });
    files.set(`snapshots/${added.id}`, added.bytes);
    const second = await freshOpen(files, cacheDir);
    assert.ok((await listIds(second.repo)).includes(added.id));
    assert.deepEqual(snapshotReads(second.backend), [`snapshots/${added.id}`]);
    assert.ok((await cachedIds(cacheDir)).includes(added.id));
    const third = await freshOpen(files, cacheDir);
    await listIds(third.repo);
    assert.deepEqual(snapshotReads(third.backend), []);
  });

  it("a snapshot forgotten by another process disappears from the listing and from the file", async () => {
    const { files, cacheDir, ids } = fixture();
    await listIds((await freshOpen(files, cacheDir)).repo);
    const victim = ids[0] ?? "";
    files.delete(`snapshots/${victim}`);
    const second = await freshOpen(files, cacheDir);
    assert.deepEqual(await listIds(second.repo), ids.filter((id) => id !== victim).sort());
    assert.deepEqual(snapshotReads(second.backend), []);
    assert.deepEqual(await cachedIds(cacheDir), ids.filter((id) => id !== victim).sort());
  });

  it("forgetSnapshot: the next listing rewrites the file without it", async () => {
    const { files, cacheDir, ids } = fixture();
    const { repo } = await freshOpen(files, cacheDir);
    await listIds(repo);
    await repo.forgetSnapshot(ids[1] ?? "");
    assert.deepEqual(await listIds(repo), ids.filter((id) => id !== ids[1]).sort());
    assert.deepEqual(await cachedIds(cacheDir), ids.filter((id) => id !== ids[1]).sort());
  });

  it("the file is not rewritten when nothing changed", async () => {
    const { files, cacheDir } = fixture();
    await listIds((await freshOpen(files, cacheDir)).repo);
    const before = await readFile(cachePath(cacheDir));
    const { repo } = await freshOpen(files, cacheDir);
    await listIds(repo);
    await listIds(repo);
    assert.deepEqual(await readFile(cachePath(cacheDir)), before, "same bytes (a rewrite would draw a new nonce)");
  });

  const key = masterKeyOf(v2);
  const damages: { name: string; damage: (bytes: Buffer) => Uint8Array }[] = [
    { name: "a tampered file", damage: (b) => Buffer.from(b).fill(0x41, 30, 31) },
    { name: "a truncated file", damage: (b) => b.subarray(0, Math.floor(b.length / 2)) },
    { name: "an empty file", damage: () => new Uint8Array(0) },
    { name: "another repository's file under this name", damage: () => sealCache({ key: deriveCacheKey(key, v1.config.plain.id), repositoryId: v1.config.plain.id }, []) },
    { name: "a file sealed under another master key (another password and repository)", damage: () => sealCache({ key: deriveCacheKey(masterKeyOf(v1), repoId), repositoryId: repoId }, []) },
  ];
  for (const d of damages) {
    it(`${d.name}: ignored, the listing is complete, the file is rebuilt`, async () => {
      const { files, cacheDir, ids } = fixture();
      await listIds((await freshOpen(files, cacheDir)).repo);
      await writeFile(cachePath(cacheDir), d.damage(await readFile(cachePath(cacheDir))));
      const { log, messages } = capturingLog();
      const second = await freshOpen(files, cacheDir, { log });
      assert.deepEqual(await listIds(second.repo), ids.sort());
      assert.equal(snapshotReads(second.backend).length, ids.length);
      assert.ok(messages.includes("restic snapshot cache unusable; rebuilding it"));
      assert.deepEqual(await cachedIds(cacheDir), ids.sort());
      const third = await freshOpen(files, cacheDir);
      await listIds(third.repo);
      assert.deepEqual(snapshotReads(third.backend), []);
    });
  }

  it("an unusable file is replaced even when the repository has no snapshots", async () => {
    const { files, cacheDir } = fixture(0);
    files.delete(`snapshots/${v2.snapshot.id}`);
    await listIds((await freshOpen(files, cacheDir)).repo);
    await mkdir(cacheDir, { recursive: true });
    await writeFile(cachePath(cacheDir), "junk");
    await listIds((await freshOpen(files, cacheDir)).repo);
    assert.equal((await diskCache({ dir: cacheDir, repositoryId: repoId, masterKey: key }).load()).state, "loaded");
  });

  it("a cache directory that cannot be written only logs a warning; listings still work", async () => {
    const { files, ids } = fixture();
    const blocker = join(root, `not-a-dir-${n++}`);
    await writeFile(blocker, "x");
    const { log, messages } = capturingLog();
    const { repo } = await freshOpen(files, blocker, { log });
    assert.deepEqual(await listIds(repo), ids.sort());
    assert.ok(messages.includes("restic snapshot cache not written"));
  });

  it("without cacheDir nothing is written and flushCache resolves", async () => {
    const { files } = fixture();
    const backend = memoryBackend(files);
    const repo = await openRepository({ backend, password, keyCache });
    await repo.listSnapshots();
    await repo.flushCache();
  });
});
