/**
 * Pre-rendered JSON of Snapshot objects: each object's full JSON, its PartialObjectMetadata and
 * its Table row are serialized and UTF-8 encoded once and kept beside the object (a WeakMap: an
 * object that changes is a new object, so nothing is ever stale). Only the AGE cell depends on
 * the time; it is put between the row's kept pieces per request. A body is assembled by copying
 * bytes, never by serializing again, and is byte for byte what JSON.stringify of the same shapes
 * ({@link toTable}, the List kinds) gives. list-cache.ts keeps whole chunks and bodies of lists.
 * @module
 */
import { SNAPSHOT_API_VERSION } from "../api/group.ts";
import { SNAPSHOT_LIST_KIND } from "../api/snapshot-names.ts";
import type { Snapshot } from "../api/snapshot.ts";
import type { MetaVersion, Outcome } from "./negotiate.ts";
import { COLUMNS, durationStableFor, fixedCellsJson, humanDuration } from "./table.ts";
import type { IncludeObject } from "./table.ts";

/** The forms a list, get or watch can answer in. */
export type Form =
  | { readonly kind: "json" }
  | { readonly kind: "partial"; readonly version: MetaVersion }
  | { readonly kind: "table"; readonly version: MetaVersion; readonly include: IncludeObject };

export type TableForm = Extract<Form, { kind: "table" }>;

/** The negotiated outcome as a render form (includeObject matters for Tables only). */
export function formOf(outcome: Outcome, include: IncludeObject): Form {
  if (outcome.kind === "table") return { kind: "table", version: outcome.version, include };
  if (outcome.kind === "partial") return { kind: "partial", version: outcome.version };
  return { kind: "json" };
}

export interface ListMeta {
  readonly resourceVersion?: string;
  readonly continue?: string;
  readonly remainingItemCount?: number;
}

interface Rendered {
  json?: Buffer;
  partial?: Partial<Record<MetaVersion, Buffer>>;
  /** `{"cells":[name,policy,status,size,files,"` — everything before the AGE text. */
  head?: Buffer;
  /** creationTimestamp in ms (NaN when unparseable). */
  created?: number;
  /** `",run,volumes],"object":` — from the AGE text's end to the row's object. */
  middle?: string;
  /** middle, the row's object and `}`, by `include/version`: the rest of the row in one piece. */
  tails?: Partial<Record<string, Buffer>>;
}

/** Where an object's renderings are kept: a property no serialization or comparison sees (non-enumerable, symbol-keyed). */
const RENDERED = Symbol("rendered");
const COLUMNS_JSON = JSON.stringify(COLUMNS);
export const COMMA = Buffer.from(",");

function rendered(s: Snapshot): Rendered {
  const holder = s as Snapshot & { [RENDERED]?: Rendered };
  let r = holder[RENDERED];
  if (r === undefined) {
    r = {};
    Object.defineProperty(holder, RENDERED, { value: r });
  }
  return r;
}

/** JSON.stringify(s), encoded and kept. */
export function objectJson(s: Snapshot): Buffer {
  const r = rendered(s);
  r.json ??= Buffer.from(JSON.stringify(s), "utf8");
  return r.json;
}

/** The PartialObjectMetadata form of `s`, serialized, encoded and kept. */
export function partialJson(s: Snapshot, version: MetaVersion): Buffer {
  const r = rendered(s);
  r.partial ??= {};
  let out = r.partial[version];
  if (out === undefined) {
    out = Buffer.from(partialText(s, version), "utf8");
    r.partial[version] = out;
  }
  return out;
}

function partialText(s: Snapshot, version: MetaVersion): string {
  return `{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/${version}","metadata":${JSON.stringify(s.metadata)}}`;
}


/** The row's object as JSON text: kept encodings are reused, others serialized (and not kept). */
function rowObjectText(s: Snapshot, include: IncludeObject, version: MetaVersion): string {
  if (include === "None") return "null";
  const r = rendered(s);
  if (include === "Object") return r.json?.toString("utf8") ?? JSON.stringify(s);
  return r.partial?.[version]?.toString("utf8") ?? partialText(s, version);
}

/** The AGE cells of one body: their encodings (many rows share one, e.g. "400d") and how long all of them stay as they are. */
interface Ages {
  readonly now: number;
  readonly texts: Map<string, Buffer>;
  /** ms from `now` until some AGE cell may read differently. */
  stableFor: number;
}

function ageBuffer(ages: Ages, created: number): Buffer {
  let text = "<unknown>";
  if (!Number.isNaN(created)) {
    const age = ages.now - created;
    text = humanDuration(age);
    ages.stableFor = Math.min(ages.stableFor, durationStableFor(age));
  }
  let b = ages.texts.get(text);
  if (b === undefined) {
    // humanDuration prints ASCII letters and digits only: no JSON escaping needed.
    b = Buffer.from(text, "latin1");
    ages.texts.set(text, b);
  }
  return b;
}

function newAges(now: number): Ages {
  return { now, texts: new Map(), stableFor: Number.POSITIVE_INFINITY };
}

/** The pieces of one body's Table rows: the AGE cells, and which kept tail the rows use. */
interface RowContext {
  readonly ages: Ages;
  readonly variant: string;
}

/** Appends one Table row (`{"cells":[…],"object":…}`, AGE as of `ages.now`) to `out`. */
function pushRow(out: Buffer[], s: Snapshot, form: TableForm, at: RowContext): void {
  const r = rendered(s);
  if (r.head === undefined || r.middle === undefined || r.created === undefined) {
    const cells = fixedCellsJson(s);
    r.head = Buffer.from(cells.head, "utf8");
    r.middle = cells.middle;
    r.created = Date.parse(s.metadata.creationTimestamp ?? "");
  }
  r.tails ??= {};
  let tail = r.tails[at.variant];
  if (tail === undefined) {
    // One encoding of the whole tail (the row's object is serialized here, not kept apart).
    tail = Buffer.from(`${r.middle}${rowObjectText(s, form.include, form.version)}}`, "utf8");
    r.tails[at.variant] = tail;
  }
  out.push(r.head, ageBuffer(at.ages, r.created), tail);
}

/** The Table kubectl asks for by default: meta.k8s.io/v1, each row's object as PartialObjectMetadata. */
export const KUBECTL_TABLE: TableForm = { kind: "table", version: "v1", include: "Metadata" };

/**
 * Renders the Table rows of `items` in `form` ahead of the first request that needs them (kept
 * beside each object, as a request would keep them): e.g. while a cold listing is still being
 * read, so that its first `kubectl get` only assembles the rows.
 */
export function prerenderRows(items: readonly Snapshot[], form: TableForm, now: number): void {
  const at: RowContext = { ages: newAges(now), variant: `${form.include}/${form.version}` };
  const sink: Buffer[] = [];
  for (const s of items) {
    pushRow(sink, s, form, at);
    sink.length = 0;
  }
}

export interface TableBody {
  readonly now: number;
  /** Watch events after the first omit the column definitions (kubectl reuses the last ones). */
  readonly columns: boolean;
  readonly listMeta?: ListMeta;
}

export interface ListBody {
  readonly now: number;
  readonly listMeta: ListMeta;
}

export const LIST_END = Buffer.from("]}");

/** How one body appends its items, and how long their AGE cells stay as they are. */
export interface Pusher {
  row(out: Buffer[], s: Snapshot): void;
  stableFor(): number;
}

export function pusher(form: Form, now: number): Pusher {
  if (form.kind === "table") {
    const at: RowContext = { ages: newAges(now), variant: `${form.include}/${form.version}` };
    return { row: (out, s) => pushRow(out, s, form, at), stableFor: () => at.ages.stableFor };
  }
  const one = form.kind === "partial" ? (s: Snapshot) => partialJson(s, form.version) : objectJson;
  return { row: (out, s) => void out.push(one(s)), stableFor: () => Number.POSITIVE_INFINITY };
}

/** Appends the items' pieces, comma-separated. */
export function pushAll(out: Buffer[], items: readonly Snapshot[], push: Pusher): void {
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out.push(COMMA);
    push.row(out, items[i] as Snapshot);
  }
}

/** A list body up to its first item: kind, apiVersion, metadata (and a Table's columns). */
export function listPrefix(form: Form, listMeta: ListMeta, columns = true): Buffer {
  const meta = JSON.stringify(listMeta);
  if (form.kind === "table") {
    return Buffer.from(`{"kind":"Table","apiVersion":"meta.k8s.io/${form.version}","metadata":${meta},"columnDefinitions":${columns ? COLUMNS_JSON : "[]"},"rows":[`, "utf8");
  }
  if (form.kind === "partial") return Buffer.from(`{"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/${form.version}","metadata":${meta},"items":[`, "utf8");
  return Buffer.from(`{"kind":"${SNAPSHOT_LIST_KIND}","apiVersion":"${SNAPSHOT_API_VERSION}","metadata":${meta},"items":[`, "utf8");
}

/** JSON.stringify(toTable(items, …)), from the kept rows. */
export function tableJson(items: readonly Snapshot[], form: TableForm, body: TableBody): Buffer {
  const out = [listPrefix(form, body.listMeta ?? {}, body.columns)];
  pushAll(out, items, pusher(form, body.now));
  out.push(LIST_END);
  return Buffer.concat(out);
}

/** A list body (SnapshotList, PartialObjectMetadataList or Table) of `items`. */
export function listJson(items: readonly Snapshot[], form: Form, body: ListBody): Buffer {
  const out = [listPrefix(form, body.listMeta)];
  pushAll(out, items, pusher(form, body.now));
  out.push(LIST_END);
  return Buffer.concat(out);
}

/** The object itself in `form` (get; watch frames): full JSON, PartialObjectMetadata or a one-row Table. */
export function itemJson(s: Snapshot, form: Form, body: TableBody): Buffer {
  if (form.kind === "table") return tableJson([s], form, body);
  return form.kind === "partial" ? partialJson(s, form.version) : objectJson(s);
}
