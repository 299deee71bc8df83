/**
 * The process-wide resourceVersion counter and the ring buffer of recent watch events.
 * @module
 */
import type { Snapshot } from "../api/snapshot.ts";
import type { Clock } from "./types.ts";

export const EVENT_TYPES = ["ADDED", "MODIFIED", "DELETED"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface IndexEvent {
  readonly type: EventType;
  /** The resourceVersion of this change (also in object.metadata.resourceVersion). */
  readonly rv: number;
  readonly object: Snapshot;
  /** The state before a MODIFIED change (for selector transitions). */
  readonly prev?: Snapshot;
}

export interface EventLog {
  /** Allocates the next resourceVersion. */
  next(): number;
  /** The latest allocated resourceVersion. */
  current(): number;
  append(e: IndexEvent): void;
  /** Events with rv > `rv`, oldest first; "expired" when some of them were already evicted. */
  since(rv: number): readonly IndexEvent[] | "expired";
  /** The oldest resourceVersion a watch can start from. */
  oldest(): number;
}

export interface EventLogOptions {
  readonly clock: Clock;
  readonly capacity: number;
}

/**
 * resourceVersions are seeded from the clock (milliseconds × 1000) and never go back: a
 * restarted process (or another replica) continues above what clients have seen, so a watch
 * from an RV of an older process gets 410 Expired rather than silently missing events.
 */
export function createEventLog(opts: EventLogOptions): EventLog {
  const capacity = Math.max(1, opts.capacity);
  const ring: (IndexEvent | undefined)[] = new Array<IndexEvent | undefined>(capacity);
  let head = 0;
  let count = 0;
  let rv = opts.clock.now() * 1000;
  let evictedThrough = rv;

  const at = (i: number): IndexEvent => ring[(head + i) % capacity] as IndexEvent;

  /** Index of the first buffered event with rv > `after` (binary search; rvs increase). */
  function firstAfter(after: number): number {
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (at(mid).rv <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  return {
    next() {
      rv = Math.max(rv + 1, opts.clock.now() * 1000);
      return rv;
    },
    current: () => rv,
    oldest: () => evictedThrough,
    append(e) {
      if (count === capacity) {
        evictedThrough = at(0).rv;
        ring[head] = e;
        head = (head + 1) % capacity;
        return;
      }
      ring[(head + count) % capacity] = e;
      count++;
    },
    since(after) {
      if (after < evictedThrough) return "expired";
      const out: IndexEvent[] = [];
      for (let i = firstAfter(after); i < count; i++) out.push(at(i));
      return out;
    },
  };
}
