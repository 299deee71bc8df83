/**
 * A small map whose entries expire after a fixed time (the 10 s caches of delegated authn/authz).
 * @module
 */
import type { Clock } from "./types.ts";

export interface TtlCache<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  size(): number;
}

export interface TtlCacheOptions {
  readonly clock: Clock;
  readonly ttlMs: number;
  /** The oldest entry is evicted beyond this many. */
  readonly maxEntries?: number;
}

export function createTtlCache<V>(opts: TtlCacheOptions): TtlCache<V> {
  const entries = new Map<string, { value: V; expires: number }>();
  const max = opts.maxEntries ?? 10_000;
  return {
    get(key) {
      const e = entries.get(key);
      if (e === undefined) return undefined;
      if (e.expires <= opts.clock.now()) {
        entries.delete(key);
        return undefined;
      }
      return e.value;
    },
    set(key, value) {
      entries.delete(key);
      entries.set(key, { value, expires: opts.clock.now() + opts.ttlMs });
      while (entries.size > max) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
    },
    size: () => entries.size,
  };
}
