/**
 * Removing cache files nobody uses any more: the snapshot cache and stored key of a repository
 * whose policy was deleted or moved, and temporary files left by a crash between write and
 * rename. Only files untouched for a while go, so a repository being opened right now keeps
 * its files.
 * @module
 */
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { cacheFileName } from "./disk-cache.ts";
import { keyFileName } from "./key-store.ts";

/** The cache files a repository in use owns. */
export function cacheFilesOf(repo: { readonly id: string; readonly location: string }): string[] {
  return [cacheFileName(repo.id), keyFileName(repo.location)];
}

export interface SweepOptions {
  readonly dir: string;
  /** File names to keep whatever their age (cacheFilesOf of every repository in use). */
  readonly keep: ReadonlySet<string>;
  readonly now: number;
  /** Other files go once they have not been modified for this long. */
  readonly olderThanMs: number;
}

const OURS = /^([0-9a-f]{1,128}\.(snapshots|key))(\.tmp-\d+-\d+)?$/;

/** Removes the stale files of `dir` that are ours (by name); the names removed. Never throws. */
export async function sweepCacheDir(o: SweepOptions): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(o.dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = OURS.exec(name);
    if (m === null || (m[3] === undefined && o.keep.has(name))) continue;
    try {
      const st = await stat(join(o.dir, name));
      if (!st.isFile() || o.now - st.mtimeMs < o.olderThanMs) continue;
      await rm(join(o.dir, name), { force: true });
      removed.push(name);
    } catch {
      // gone meanwhile, or not ours to remove: leave it
    }
  }
  return removed;
}
