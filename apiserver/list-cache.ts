/**
 * Kept list bodies: a list without a selector is a range of a sorted view (the index makes a new
 * view array whenever a row changes, so whatever is kept per view is never stale). Its rows are
 * kept assembled in chunks of CHUNK_ROWS, aligned to the view, and recent whole bodies are kept
 * too; both are reused for as long as every AGE cell in them reads the same (a chunk holding a
 * snapshot taken seconds ago is assembled again each second; the others are not).
 * @module
 */
import type { Snapshot } from "../api/snapshot.ts";
import { COMMA, LIST_END, listPrefix, pushAll, pusher } from "./render.ts";
import type { Form, ListBody } from "./render.ts";

/** Rows of one sorted view (an array that never changes: the index makes a new one on any change). */
export interface ViewRange {
  readonly rows: readonly { readonly object: Snapshot }[];
  /** The body shows rows [start, end). */
  readonly start: number;
  readonly end: number;
}

/** Assembled bytes whose AGE cells read the same from `from` until before `until`. */
interface Kept {
  readonly bytes: Buffer;
  readonly from: number;
  readonly until: number;
}

const valid = (k: Kept | undefined, now: number): k is Kept => k !== undefined && k.from <= now && now < k.until;

/** Rows a kept chunk holds; kubectl's pages of 500 are two chunks. */
export const CHUNK_ROWS = 250;
const MAX_BODIES_PER_VIEW = 32;
const MAX_BODY_BYTES_PER_VIEW = 32 * 1024 * 1024;

/** What is kept per view: chunks by form and number, and recent whole bodies by request. */
interface ViewKept {
  readonly chunks: Map<string, Map<number, Kept>>;
  readonly bodies: Map<string, Kept>;
}

const kept = new WeakMap<object, ViewKept>();

function keptOf(rows: object): ViewKept {
  let k = kept.get(rows);
  if (k === undefined) {
    k = { chunks: new Map(), bodies: new Map() };
    kept.set(rows, k);
  }
  return k;
}

function shapeKey(form: Form): string {
  return form.kind === "table" ? `table/${form.include}/${form.version}` : form.kind === "partial" ? `partial/${form.version}` : "json";
}

interface ChunkAt {
  readonly n: number;
  readonly size: number;
  readonly now: number;
}

/** Chunk `n` of the view, kept or assembled now. */
function chunk(range: ViewRange, form: Form, at: ChunkAt): Kept {
  const byShape = keptOf(range.rows).chunks;
  const shape = shapeKey(form);
  const chunks = byShape.get(shape) ?? new Map<number, Kept>();
  byShape.set(shape, chunks);
  const hit = chunks.get(at.n);
  if (valid(hit, at.now)) return hit;
  const items = range.rows.slice(at.n * at.size, (at.n + 1) * at.size).map((r) => r.object);
  const out: Buffer[] = [];
  const push = pusher(form, at.now);
  pushAll(out, items, push);
  const fresh = { bytes: Buffer.concat(out), from: at.now, until: at.now + push.stableFor() };
  chunks.set(at.n, fresh);
  return fresh;
}

/** Keeps a body, dropping the oldest beyond the view's bounds. */
function remember(bodies: Map<string, Kept>, key: string, body: Kept): void {
  bodies.delete(key);
  bodies.set(key, body);
  let bytes = 0;
  for (const b of bodies.values()) bytes += b.bytes.length;
  for (const [k, b] of bodies) {
    if (bodies.size <= MAX_BODIES_PER_VIEW && bytes <= MAX_BODY_BYTES_PER_VIEW) break;
    bodies.delete(k);
    bytes -= b.bytes.length;
  }
}

function assembleRange(range: ViewRange, form: Form, body: ListBody, chunkRows: number): Kept {
  const out: Buffer[] = [listPrefix(form, body.listMeta)];
  const push = pusher(form, body.now);
  let until = Number.POSITIVE_INFINITY;
  for (let i = range.start; i < range.end; ) {
    if (i > range.start) out.push(COMMA);
    if (i % chunkRows === 0 && i + chunkRows <= range.end) {
      const c = chunk(range, form, { n: i / chunkRows, size: chunkRows, now: body.now });
      out.push(c.bytes);
      until = Math.min(until, c.until);
      i += chunkRows;
    } else {
      push.row(out, (range.rows[i] as { object: Snapshot }).object);
      i++;
    }
  }
  out.push(LIST_END);
  return { bytes: Buffer.concat(out), from: body.now, until: Math.min(until, body.now + push.stableFor()) };
}

/**
 * listJson of rows [start, end) of a sorted view, from kept chunks of CHUNK_ROWS rows (aligned
 * to the view): a chunk is assembled once and reused while every AGE cell in it reads the same,
 * so only chunks holding young snapshots are assembled again; rows outside whole chunks are
 * assembled per request. A whole body is kept too and answered again, as is, while all of it
 * still reads the same (the same page requested again).
 */
export function viewListJson(range: ViewRange, form: Form, body: ListBody, chunkRows: number = CHUNK_ROWS): Buffer {
  const bodies = keptOf(range.rows).bodies;
  const key = `${range.start}:${range.end}:${shapeKey(form)}:${JSON.stringify(body.listMeta)}`;
  const hit = bodies.get(key);
  if (valid(hit, body.now)) return hit.bytes;
  const fresh = assembleRange(range, form, body, chunkRows);
  remember(bodies, key, fresh);
  return fresh.bytes;
}
