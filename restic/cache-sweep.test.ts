import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cacheFilesOf, sweepCacheDir } from "./cache-sweep.ts";

const HOUR = 3_600_000;
const live = { id: "aa".repeat(32), location: "local:/srv/live" };
const gone = { id: "bb".repeat(32), location: "local:/srv/gone" };

describe("sweepCacheDir", () => {
  it("removes stale files of repositories no longer in use and crash leftovers; keeps the rest", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pw-cache-sweep-"));
    try {
      const now = Date.now();
      const files: { name: string; ageHours: number; stays: boolean; why: string }[] = [
        ...cacheFilesOf(live).map((name) => ({ name, ageHours: 100, stays: true, why: "in use, however old" })),
        ...cacheFilesOf(gone).map((name) => ({ name, ageHours: 25, stays: false, why: "not in use, stale" })),
        { name: `${"cc".repeat(32)}.snapshots`, ageHours: 1, stays: true, why: "not in use but recent (a repository being opened)" },
        { name: `${cacheFilesOf(live)[0]}.tmp-7-1`, ageHours: 25, stays: false, why: "a stale temporary file" },
        { name: "notes.txt", ageHours: 100, stays: true, why: "not ours" },
      ];
      for (const f of files) {
        const path = join(dir, f.name);
        await writeFile(path, "x");
        const t = (now - f.ageHours * HOUR) / 1000;
        await utimes(path, t, t);
      }
      const removed = await sweepCacheDir({ dir, keep: new Set(cacheFilesOf(live)), now, olderThanMs: 24 * HOUR });
      const left = new Set(await readdir(dir));
      for (const f of files) assert.equal(left.has(f.name), f.stays, `${f.name}: ${f.why}`);
      assert.deepEqual(removed.sort(), files.filter((f) => !f.stays).map((f) => f.name).sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a missing directory removes nothing", async () => {
    assert.deepEqual(await sweepCacheDir({ dir: join(tmpdir(), "pw-no-such-dir-x"), keep: new Set(), now: Date.now(), olderThanMs: 0 }), []);
  });
});
