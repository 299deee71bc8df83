/**
 * The restic snapshot document, shaped exactly as `restic snapshots --json` prints it: the
 * stored fields with Go's `omitempty` rules applied, plus `id` and `short_id`.
 * @module
 */

/** `summary` of snapshots made by restic ≥ 0.17. */
export interface SnapshotSummary {
  readonly backup_start: string;
  readonly backup_end: string;
  readonly files_new: number;
  readonly files_changed: number;
  readonly files_unmodified: number;
  readonly dirs_new: number;
  readonly dirs_changed: number;
  readonly dirs_unmodified: number;
  readonly data_blobs: number;
  readonly tree_blobs: number;
  readonly data_added: number;
  readonly data_added_packed: number;
  readonly total_files_processed: number;
  readonly total_bytes_processed: number;
}

export interface ResticSnapshot {
  /** RFC 3339 with nanoseconds, in the backup host's offset (kept as written). */
  readonly time: string;
  readonly parent?: string;
  readonly tree: string;
  /** Not omitempty in restic: `null` when the file has none. */
  readonly paths: readonly string[] | null;
  readonly hostname?: string;
  readonly username?: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly excludes?: readonly string[];
  readonly tags?: readonly string[];
  readonly original?: string;
  readonly program_version?: string;
  readonly summary?: SnapshotSummary;
  /** Full 64-hex ID: SHA-256 of the stored file. */
  readonly id: string;
  /** First 8 hex characters of `id`. */
  readonly short_id: string;
}

export const SUMMARY_TIME_FIELDS = ["backup_start", "backup_end"] as const;
export const SUMMARY_COUNT_FIELDS = [
  "files_new",
  "files_changed",
  "files_unmodified",
  "dirs_new",
  "dirs_changed",
  "dirs_unmodified",
  "data_blobs",
  "tree_blobs",
  "data_added",
  "data_added_packed",
  "total_files_processed",
  "total_bytes_processed",
] as const;

export const ID_PATTERN = /^[0-9a-f]{64}$/;
/** Go's zero time, as restic prints an unset time. */
const ZERO_TIME = "0001-01-01T00:00:00Z";
const MAX_UINT32 = 0xffff_ffff;

/** A snapshot document that does not have the shape restic writes. */
export class SnapshotFormatError extends Error {
  override readonly name = "SnapshotFormatError";
}

type Doc = Record<string, unknown>;

/** Validates and normalises a decoded snapshot document; throws SnapshotFormatError naming the field. */
export function parseSnapshot(id: string, doc: unknown): ResticSnapshot {
  return deepFreeze(buildSnapshot(id, doc));
}

/**
 * parseSnapshot without freezing, for a decode worker: the snapshot reaches the main thread as
 * JSON text, and the pool freezes what it parses (freezeBuiltSnapshot).
 */
export function buildSnapshot(id: string, doc: unknown): ResticSnapshot {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new SnapshotFormatError("snapshot document must be a JSON object");
  }
  const d = doc as Doc;
  const out: Record<string, unknown> = { time: requireTime(d, "time") };
  setIf(out, "parent", optionalId(d, "parent"));
  out.tree = requireId(d, "tree");
  out.paths = stringList(d, "paths") ?? null;
  setIf(out, "hostname", nonEmpty(optionalString(d, "hostname")));
  setIf(out, "username", nonEmpty(optionalString(d, "username")));
  setIf(out, "uid", nonZero(optionalUint(d, "uid", MAX_UINT32)));
  setIf(out, "gid", nonZero(optionalUint(d, "gid", MAX_UINT32)));
  setIf(out, "excludes", nonEmptyList(stringList(d, "excludes")));
  setIf(out, "tags", nonEmptyList(stringList(d, "tags")));
  setIf(out, "original", optionalId(d, "original"));
  setIf(out, "program_version", nonEmpty(optionalString(d, "program_version")));
  setIf(out, "summary", parseSummary(d.summary));
  out.id = id;
  out.short_id = id.slice(0, 8);
  return out as unknown as ResticSnapshot;
}

function parseSummary(raw: unknown): SnapshotSummary | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== "object" || Array.isArray(raw)) throw new SnapshotFormatError("summary must be an object");
  const d = raw as Doc;
  const out: Record<string, unknown> = {};
  for (const f of SUMMARY_TIME_FIELDS) out[f] = d[f] === undefined || d[f] === null ? ZERO_TIME : requireTime(d, f, "summary.");
  for (const f of SUMMARY_COUNT_FIELDS) out[f] = integer(d[f], `summary.${f}`);
  return out as unknown as SnapshotSummary;
}

function setIf(out: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== undefined) out[key] = value;
}

function requireTime(d: Doc, field: string, prefix = ""): string {
  const v = d[field];
  if (typeof v !== "string" || Number.isNaN(Date.parse(v))) {
    throw new SnapshotFormatError(`${prefix}${field} must be an RFC 3339 time string, got ${JSON.stringify(v)}`);
  }
  return goTime(v);
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A time as Go prints it after parsing (restic re-encodes every snapshot it lists): at most 9
 * fraction digits without trailing zeros, and a zero offset as `Z`. Other offsets are kept.
 */
export function goTime(time: string): string {
  const m = RFC3339.exec(time);
  if (m === null) return time;
  const fraction = (m[2] ?? "").slice(0, 9).replace(/0+$/, "");
  const zone = m[3] === "+00:00" || m[3] === "-00:00" ? "Z" : m[3];
  return `${m[1]}${fraction === "" ? "" : `.${fraction}`}${zone}`;
}

function requireId(d: Doc, field: string): string {
  const v = optionalId(d, field);
  if (v === undefined) throw new SnapshotFormatError(`${field} must be a 64-character lowercase hex ID, got nothing`);
  return v;
}

function optionalId(d: Doc, field: string): string | undefined {
  const v = d[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || !ID_PATTERN.test(v)) {
    throw new SnapshotFormatError(`${field} must be a 64-character lowercase hex ID, got ${JSON.stringify(v)}`);
  }
  return v;
}

function optionalString(d: Doc, field: string): string | undefined {
  const v = d[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new SnapshotFormatError(`${field} must be a string, got ${typeof v}`);
  return v;
}

function optionalUint(d: Doc, field: string, max: number): number | undefined {
  const v = d[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) {
    throw new SnapshotFormatError(`${field} must be an integer from 0 to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function integer(v: unknown, field: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new SnapshotFormatError(`${field} must be an integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function stringList(d: Doc, field: string): string[] | undefined {
  const v = d[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
    throw new SnapshotFormatError(`${field} must be a list of strings`);
  }
  return v as string[];
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === "" ? undefined : v;
}

function nonZero(v: number | undefined): number | undefined {
  return v === 0 ? undefined : v;
}

function nonEmptyList(v: string[] | undefined): string[] | undefined {
  return v !== undefined && v.length === 0 ? undefined : v;
}

/** Freezes a snapshot and everything in it (e.g. one read back from a cache file). */
export function freezeSnapshot(s: ResticSnapshot): ResticSnapshot {
  return deepFreeze(s);
}

/**
 * freezeSnapshot for a snapshot shaped by buildSnapshot (e.g. parsed from a decode worker's
 * JSON): its only nested values are its lists and summary, so they are frozen by name.
 */
export function freezeBuiltSnapshot(s: ResticSnapshot): ResticSnapshot {
  if (s.paths !== null) Object.freeze(s.paths);
  if (s.excludes !== undefined) Object.freeze(s.excludes);
  if (s.tags !== undefined) Object.freeze(s.tags);
  if (s.summary !== undefined) Object.freeze(s.summary);
  return Object.freeze(s);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Sort key order of `restic snapshots`: oldest first; equal times by ID for a stable order. */
export function compareSnapshots(a: ResticSnapshot, b: ResticSnapshot): number {
  const ka = sortKey(a);
  const kb = sortKey(b);
  if (ka !== kb) return ka < kb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Snapshots are frozen, so each one's time key is computed once: kept on the snapshot itself
 * when it is handed over before it is frozen (a non-enumerable property no serialization or
 * comparison sees), else beside it.
 */
const TIME_KEY = Symbol("timeKey");
const sortKeys = new WeakMap<ResticSnapshot, string>();

function sortKey(s: ResticSnapshot): string {
  let k = (s as ResticSnapshot & { [TIME_KEY]?: string })[TIME_KEY] ?? sortKeys.get(s);
  if (k === undefined) {
    k = timeKey(s.time);
    sortKeys.set(s, k);
  }
  return k;
}

/** Records the timeKey of `s` computed elsewhere (a decode worker), so that sorting does not compute it again. */
export function rememberTimeKey(s: ResticSnapshot, key: string): void {
  if (Object.isExtensible(s)) Object.defineProperty(s, TIME_KEY, { value: key });
  else sortKeys.set(s, key);
}

const FRACTION = /\.(\d+)/;
/** Milliseconds from year 1 to 1970, rounded up: added so that every key is a positive number. */
const EPOCH_SHIFT = 1e14;

/**
 * The instant of an RFC 3339 time as a string that sorts like the instants, to the nanosecond
 * (Date keeps only milliseconds): shifted milliseconds since the epoch in 16 digits, then the
 * digits below the millisecond. Empty for a time that does not parse (sorts first).
 */
export function timeKey(time: string): string {
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) return "";
  const sub = (FRACTION.exec(time)?.[1] ?? "").slice(3, 9).padEnd(6, "0");
  return `${String(ms + EPOCH_SHIFT).padStart(16, "0")}${sub}`;
}
