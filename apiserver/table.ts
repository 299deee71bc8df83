/**
 * Server-side printing: the `meta.k8s.io` Table kubectl asks for, with human sizes and ages
 * rendered here because kubectl prints cells verbatim.
 * @module
 */
import type { Snapshot } from "../api/snapshot.ts";
import type { MetaVersion } from "./negotiate.ts";

export const INCLUDE_OBJECT = ["Metadata", "Object", "None"] as const;
export type IncludeObject = (typeof INCLUDE_OBJECT)[number];

export interface ColumnDefinition {
  readonly name: string;
  readonly type: string;
  readonly format: string;
  readonly description: string;
  readonly priority: number;
}

export const COLUMNS: readonly ColumnDefinition[] = [
  { name: "Name", type: "string", format: "name", description: "Name must be unique within a namespace: the BackupRun's name, or <policy>-<restic id>.", priority: 0 },
  { name: "Policy", type: "string", format: "", description: "The BackupPolicy whose repository holds the snapshot.", priority: 0 },
  { name: "Status", type: "string", format: "", description: "Complete, Partial or InProgress.", priority: 0 },
  { name: "Size", type: "string", format: "", description: "Data size over all volumes.", priority: 0 },
  { name: "Files", type: "integer", format: "", description: "Files over all volumes.", priority: 0 },
  { name: "Age", type: "string", format: "", description: "Time since the snapshot was taken.", priority: 0 },
  { name: "Run", type: "string", format: "", description: "The BackupRun that made it.", priority: 1 },
  { name: "Volumes", type: "string", format: "", description: "The PVCs it holds.", priority: 1 },
];

const UNITS = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"] as const;

/** Binary units like kubectl users expect: 512, 1.5Ki, 12Mi, 1.2Gi (one decimal below 10). */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return String(Math.max(0, Math.round(bytes)));
  let value = bytes / 1024;
  let i = 0;
  while (value >= 1024 && i < UNITS.length - 1) {
    value /= 1024;
    i++;
  }
  let rounded = value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
  if (rounded >= 1024 && i < UNITS.length - 1) {
    i++;
    rounded = 1;
  }
  return `${rounded}${UNITS[i] ?? ""}`;
}

function withRest(big: number, unit: string, rest: number, restUnit: string): string {
  return rest === 0 ? `${big}${unit}` : `${big}${unit}${rest}${restUnit}`;
}

/** kubectl's HumanDuration: 45s, 5m10s, 3h, 2d4h, 400d, 3y20d. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return withRest(minutes, "m", seconds % 60, "s");
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return withRest(hours, "h", minutes % 60, "m");
  return longDuration(hours);
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * How much longer (ms, at least 1) humanDuration keeps printing what it prints for `ms`: its
 * text changes only on whole seconds below 10 minutes, whole minutes below 8 hours, whole hours
 * below 8 days and whole days above.
 */
export function durationStableFor(ms: number): number {
  if (ms < SECOND) return 1;
  const unit = ms < 10 * MINUTE ? SECOND : ms < 8 * HOUR ? MINUTE : ms < 8 * DAY ? HOUR : DAY;
  return unit - (ms % unit);
}

function longDuration(hours: number): string {
  const days = Math.trunc(hours / 24);
  const years = Math.trunc(days / 365);
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return withRest(days, "d", hours % 24, "h");
  if (hours < 24 * 365 * 2) return `${days}d`;
  if (hours < 24 * 365 * 8) return withRest(years, "y", days % 365, "d");
  return `${years}y`;
}

/** VOLUMES: the distinct PVCs, comma-separated, or <none>. */
function volumesCell(s: Snapshot): string {
  const pvcs: string[] = [];
  for (const v of s.status.volumes) {
    const pvc = v.pvc ?? "<none>";
    if (!pvcs.includes(pvc)) pvcs.push(pvc);
  }
  return pvcs.length === 0 ? "<none>" : pvcs.join(",");
}

/** The cells that do not depend on the time, in column order: NAME POLICY STATUS SIZE FILES, then RUN VOLUMES after AGE. */
function timelessCells(s: Snapshot): readonly [string, string, string, string, number, string, string] {
  return [s.metadata.name ?? "", s.spec.policy, s.status.phase, humanSize(s.status.totals.sizeBytes), s.status.totals.files, s.spec.run ?? "<none>", volumesCell(s)];
}

/** The cells that do not depend on the time: those before AGE and those after it. */
export function fixedCells(s: Snapshot): { readonly before: unknown[]; readonly after: unknown[] } {
  const [name, policy, phase, size, files, run, volumes] = timelessCells(s);
  return { before: [name, policy, phase, size, files], after: [run, volumes] };
}

/**
 * fixedCells as the JSON text around the AGE cell, written directly rather than through arrays
 * (a row is rendered once per object, thousands at a time on a cold start): `head` is
 * `{"cells":[…before,"` and `middle` is `",…after],"object":`.
 */
export function fixedCellsJson(s: Snapshot): { readonly head: string; readonly middle: string } {
  const [name, policy, phase, size, files, run, volumes] = timelessCells(s).map((cell) => JSON.stringify(cell));
  return { head: `{"cells":[${name},${policy},${phase},${size},${files},"`, middle: `",${run},${volumes}],"object":` };
}

/** AGE: the time since the snapshot was taken, or <unknown>. */
export function ageCell(s: Snapshot, now: number): string {
  const created = Date.parse(s.metadata.creationTimestamp ?? "");
  return Number.isNaN(created) ? "<unknown>" : humanDuration(now - created);
}

export function cells(s: Snapshot, now: number): unknown[] {
  const { before, after } = fixedCells(s);
  return [...before, ageCell(s, now), ...after];
}

/** The PartialObjectMetadata form of an object (metadata only). */
export function partialObject(s: Snapshot, version: MetaVersion): Record<string, unknown> {
  return { kind: "PartialObjectMetadata", apiVersion: `meta.k8s.io/${version}`, metadata: s.metadata };
}

function rowObject(s: Snapshot, include: IncludeObject, version: MetaVersion): unknown {
  if (include === "None") return null;
  if (include === "Object") return s;
  return partialObject(s, version);
}

export interface TableOptions {
  readonly version: MetaVersion;
  readonly include: IncludeObject;
  readonly now: number;
  /** Watch events after the first omit the column definitions (kubectl reuses the last ones). */
  readonly columns: boolean;
  readonly listMeta?: { readonly resourceVersion?: string; readonly continue?: string; readonly remainingItemCount?: number };
}

export function toTable(items: readonly Snapshot[], opts: TableOptions): Record<string, unknown> {
  return {
    kind: "Table",
    apiVersion: `meta.k8s.io/${opts.version}`,
    metadata: opts.listMeta ?? {},
    columnDefinitions: opts.columns ? COLUMNS : [],
    rows: items.map((s) => ({ cells: cells(s, opts.now), object: rowObject(s, opts.include, opts.version) })),
  };
}
