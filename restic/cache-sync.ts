/**
 * Keeps a repository's in-memory snapshot cache and its disk cache file in step: the file is
 * read once (started as soon as the repository is open) to seed the memory cache, and written
 * in the background, one write at a time, whenever a listing's set of IDs differs from what the
 * file holds. Write failures are logged, never returned to the caller.
 * @module
 */
import type { Logger } from "../kube/log.ts";
import type { CacheLoad, DiskCache } from "./disk-cache.ts";
import { describeCause } from "./errors.ts";
import type { ResticSnapshot } from "./snapshot.ts";

/** What the listing needs of the cache: a Map works. */
interface MemoryCache {
  get(id: string): ResticSnapshot | undefined;
  set(id: string, snapshot: ResticSnapshot): unknown;
}

export interface CacheSync {
  /** The first call fills `memory` with the file's snapshots that are listed; later calls do nothing. */
  restore(memory: MemoryCache, listed: readonly string[]): Promise<void>;
  /** Schedules a write when the IDs of `snapshots` (a whole listing) differ from the file's. */
  record(snapshots: readonly ResticSnapshot[]): void;
  /** Resolves when every scheduled write has finished. */
  flush(): Promise<void>;
}

export interface CacheSyncOptions {
  readonly disk: DiskCache;
  /** For log fields. */
  readonly repository: string;
  readonly log?: Logger;
  /**
   * How long a write waits before encoding the file (default 1 s; flush() cuts it short). The file
   * only helps a later restart, and encoding thousands of snapshots takes the main thread for
   * tens of milliseconds: right after a cold listing, that time belongs to the requests the
   * listing made answerable.
   */
  readonly writeDelayMs?: number;
}

const DEFAULT_WRITE_DELAY_MS = 1000;

export function createCacheSync(opts: CacheSyncOptions): CacheSync {
  const { disk, repository, log } = opts;
  let loading: Promise<CacheLoad> | undefined = disk.load();
  /** IDs the file holds (or will, once the queued write lands); undefined: rewrite whatever the listing. */
  let target: ReadonlySet<string> | undefined;
  let pending: readonly ResticSnapshot[] | undefined;
  let running: Promise<void> | undefined;
  /** Ends the current wait before a write (flush calls it). */
  let hurry: (() => void) | undefined;
  const wait = (): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, opts.writeDelayMs ?? DEFAULT_WRITE_DELAY_MS);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        hurry = undefined;
        resolve();
      }
      hurry = done;
    });

  const drain = async (): Promise<void> => {
    while (pending !== undefined) {
      await wait();
      const snapshots = pending;
      pending = undefined;
      try {
        await disk.save(snapshots);
        log?.debug({ repository, cacheFile: disk.path, snapshots: snapshots.length }, "restic snapshot cache written");
      } catch (err) {
        log?.warn({ repository, cacheFile: disk.path, error: describeCause(err) }, "restic snapshot cache not written");
      }
    }
    running = undefined;
  };

  return {
    async restore(memory, listed) {
      if (loading === undefined) return;
      const loaded = await loading;
      if (loading === undefined) return;
      loading = undefined;
      if (loaded.state === "unusable") log?.warn({ repository, cacheFile: disk.path }, "restic snapshot cache unusable; rebuilding it");
      target = loaded.state === "unusable" ? undefined : new Set(loaded.snapshots.map((s) => s.id));
      const wanted = new Set(listed);
      for (const s of loaded.snapshots) if (wanted.has(s.id) && memory.get(s.id) === undefined) memory.set(s.id, s);
    },
    record(snapshots) {
      if (loading !== undefined) return;
      if (target !== undefined && sameIds(target, snapshots)) return;
      target = new Set(snapshots.map((s) => s.id));
      pending = snapshots;
      running ??= drain();
    },
    async flush() {
      while (running !== undefined) {
        hurry?.();
        await running;
      }
    },
  };
}

function sameIds(ids: ReadonlySet<string>, snapshots: readonly ResticSnapshot[]): boolean {
  return ids.size === snapshots.length && snapshots.every((s) => ids.has(s.id));
}
