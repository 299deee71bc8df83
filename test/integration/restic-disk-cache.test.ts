/**
 * The persistent snapshot cache against a repository made and changed by the real restic CLI:
 * a new process fetches only snapshot files it has not cached, and still lists exactly what
 * `restic snapshots --json --no-lock` prints.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyFileName } from "../../restic/key-store.ts";
import { localBackend } from "../../restic/backend.ts";
import { openRepository } from "../../restic/repository.ts";
import type { Repository } from "../../restic/repository.ts";
import type { CountingBackend } from "../../restic/testing.ts";
import { countingBackend } from "../../restic/testing.ts";
import type { ResticCliOptions } from "../support/restic-cli.ts";
import { assertSameAsRestic, resticBackup, resticForget, resticInit, resticSnapshots } from "../support/restic-cli.ts";

const PASSWORD = "disk-cache-pw";
let work = "";
let cli: ResticCliOptions;
let src = "";

before(async () => {
  work = await mkdtemp(join(tmpdir(), "pw-restic-disk-cache-"));
  src = join(work, "src");
  await mkdir(src, { recursive: true });
  await writeFile(join(src, "a.txt"), "secret-looking-content\n");
  cli = { repo: join(work, "repo"), password: PASSWORD };
  await resticInit({ ...cli, version: 2 });
  await resticBackup({ ...cli, dir: src, tags: ["policy=web", "run=web-1", "pvc=data"], host: "cache-host-one" });
  await resticBackup({ ...cli, dir: src, tags: ["policy=web", "run=web-2", "pvc=data"], host: "cache-host-one" });
});

after(async () => {
  if (work !== "") await rm(work, { recursive: true, force: true });
});

/** A new process as far as the reader is concerned: fresh key and snapshot caches, same cache directory. */
async function fresh(cacheDir: string): Promise<{ repo: Repository; backend: CountingBackend }> {
  const backend = countingBackend(localBackend(cli.repo));
  const repo = await openRepository({ backend, password: PASSWORD, cacheDir, keyCache: new Map() });
  return { repo, backend };
}

async function listLikeRestic(repo: Repository): Promise<string[]> {
  const { snapshots, errors } = await repo.listSnapshots();
  await repo.flushCache();
  assert.deepEqual(errors, []);
  assertSameAsRestic(snapshots, await resticSnapshots(cli));
  return snapshots.map((s) => s.id);
}

const snapshotReads = (b: CountingBackend): string[] => b.reads.filter((p) => p.startsWith("snapshots/")).map((p) => p.slice(10));

describe("persistent snapshot cache on a repository changed by restic", () => {
  it("a second process reads only new snapshot files, drops forgotten ones, and matches restic field by field", async () => {
    const cacheDir = join(work, "cache");
    const first = await fresh(cacheDir);
    const initial = await listLikeRestic(first.repo);
    assert.deepEqual(snapshotReads(first.backend).sort(), [...initial].sort());
    const files = (await readdir(cacheDir)).sort();
    assert.deepEqual(files, [`${first.repo.id}.snapshots`, keyFileName(first.repo.location)].sort(), "the snapshot cache and the stored key");
    for (const file of files) {
      const bytes = await readFile(join(cacheDir, file));
      for (const clear of ["cache-host-one", "policy=web", initial[0]?.slice(0, 16) ?? "", PASSWORD]) assert.equal(bytes.indexOf(clear), -1, `${clear} is not stored in clear in ${file}`);
    }

    const unchanged = await fresh(cacheDir);
    await listLikeRestic(unchanged.repo);
    assert.deepEqual(snapshotReads(unchanged.backend), [], "every listed snapshot came from the cache");

    const added = await resticBackup({ ...cli, dir: src, tags: ["policy=web", "run=web-3", "pvc=data"], host: "cache-host-two" });
    await resticForget(cli, [initial[0] ?? ""]);
    const second = await fresh(cacheDir);
    const now = await listLikeRestic(second.repo);
    assert.deepEqual(snapshotReads(second.backend), [added], "only the new snapshot file is read");
    assert.ok(!now.includes(initial[0] ?? "") && now.includes(added));

    const third = await fresh(cacheDir);
    await listLikeRestic(third.repo);
    assert.deepEqual(snapshotReads(third.backend), []);
  });

  it("a damaged cache file is ignored and rebuilt; the listing still matches restic", async () => {
    const cacheDir = join(work, "cache-damaged");
    const first = await fresh(cacheDir);
    const ids = await listLikeRestic(first.repo);
    const path = join(cacheDir, `${first.repo.id}.snapshots`);
    const bytes = await readFile(path);
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] ?? 0) ^ 0x10;
    await writeFile(path, bytes);
    const second = await fresh(cacheDir);
    await listLikeRestic(second.repo);
    assert.deepEqual(snapshotReads(second.backend).sort(), [...ids].sort());
    const third = await fresh(cacheDir);
    await listLikeRestic(third.repo);
    assert.deepEqual(snapshotReads(third.backend), []);
  });
});
