/**
 * Pure grouping of one policy's restic snapshots into logical Snapshots: the per-PVC snapshots
 * of one BackupRun (restic tag `run=`) become one Snapshot named after the run; a snapshot with
 * no run tag becomes `<policy>-<first 8 hex of its id>`. A group whose inputs (restic IDs, the
 * run's status, the repository) are those of an earlier call is reused as it was, so a refresh
 * that adds one snapshot builds one object.
 * @module
 */
import { hash } from "node:crypto";
import { LABELS, SNAPSHOT_API_VERSION } from "../api/group.ts";
import { SNAPSHOT_KIND } from "../api/snapshot-names.ts";
import type { Snapshot, SnapshotPhase, SnapshotVolume } from "../api/snapshot.ts";
import { parseTags } from "../restic/tags.ts";
import type { PolicyRef, ResticSnapshotLike, RunInfo, RunVolumeInfo } from "./types.ts";

export interface GroupInput {
  readonly policy: PolicyRef;
  /** The repository's ID; part of every UID so that two repositories never share one. */
  readonly repositoryId: string;
  readonly snapshots: readonly ResticSnapshotLike[];
  /** The policy's BackupRuns by name; a run that is gone is simply absent. */
  readonly runs: ReadonlyMap<string, RunInfo>;
  /**
   * What an earlier call for the same policy returned, by name: a group whose `sig` is unchanged
   * is returned as that earlier entry (same object), without building it again.
   */
  readonly previous?: ReadonlyMap<string, LogicalSnapshot>;
}

/** A Snapshot object (resourceVersion still empty) and the restic snapshots it is made of. */
export interface LogicalSnapshot {
  readonly object: Snapshot;
  readonly resticIds: readonly string[];
  /** What the object was built from (repository, restic IDs, run status): equal means the same object. */
  readonly sig: string;
}

/** One member of a group: a restic snapshot, its pvc tag and its parsed time. */
interface Member {
  readonly snap: ResticSnapshotLike;
  readonly pvc: string | undefined;
  readonly ms: number;
}

interface Group {
  readonly name: string;
  readonly run: string | undefined;
  readonly members: Member[];
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** Fixed namespace for the UUIDv5-style UIDs of Snapshots. */
const UID_NAMESPACE = Buffer.from("333bbc8ea9b94a6eb37e767866fe6588", "hex");

export function isObjectName(s: string): boolean {
  return s.length <= 253 && DNS_SUBDOMAIN.test(s);
}

function isLabelValue(s: string): boolean {
  return s.length <= 63 && LABEL_VALUE.test(s);
}

/** UUIDv5 layout (SHA-1 of a fixed namespace and `name`, version and variant bits set). */
export function stableUid(name: string): string {
  const input = Buffer.allocUnsafe(UID_NAMESPACE.length + Buffer.byteLength(name, "utf8"));
  UID_NAMESPACE.copy(input, 0);
  input.write(name, UID_NAMESPACE.length, "utf8");
  const b = hash("sha1", input, "buffer");
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x50;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString("hex", 0, 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** RFC 3339 in UTC, whole seconds, as Kubernetes prints metav1.Time. */
export function kubeTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

function timeMs(time: string): number {
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? 0 : ms;
}

function byPvcTimeId(a: Member, b: Member): number {
  const pa = a.pvc ?? "";
  const pb = b.pvc ?? "";
  if (pa !== pb) return pa < pb ? -1 : 1;
  const dt = a.ms - b.ms;
  if (dt !== 0) return dt;
  return a.snap.id < b.snap.id ? -1 : a.snap.id > b.snap.id ? 1 : 0;
}

function sumDefined(...xs: (number | undefined)[]): number | undefined {
  const defined = xs.filter((x): x is number => x !== undefined);
  return defined.length === 0 ? undefined : defined.reduce((a, b) => a + b, 0);
}

function runVolume(run: RunInfo | undefined, id: string, pvc: string | undefined): RunVolumeInfo | undefined {
  if (run === undefined) return undefined;
  return run.volumes.find((v) => v.snapshotId === id) ?? run.volumes.find((v) => v.snapshotId === undefined && v.pvc === pvc);
}

interface Counts {
  readonly sizeBytes: number | undefined;
  readonly files: number | undefined;
  readonly addedBytes: number | undefined;
}

function runFiles(v: RunVolumeInfo | undefined): number | undefined {
  return v === undefined ? undefined : sumDefined(v.filesNew, v.filesChanged, v.filesUnmodified);
}

/** Sizes from restic's summary, else from the run's status. */
function countsOf(m: Member, run: RunInfo | undefined): Counts {
  const s = m.snap.summary ?? {};
  const fromRun = runVolume(run, m.snap.id, m.pvc);
  return {
    sizeBytes: s.total_bytes_processed ?? fromRun?.bytesTotal,
    files: s.total_files_processed ?? runFiles(fromRun),
    addedBytes: s.data_added ?? fromRun?.bytesAdded,
  };
}

/** Optional fields are absent, never undefined; keys in the order the API documents them. */
function volumeOf(m: Member, run: RunInfo | undefined): SnapshotVolume {
  const c = countsOf(m, run);
  const v: { pvc?: string; resticId: string; time: string; sizeBytes?: number; files?: number; addedBytes?: number } =
    m.pvc === undefined ? { resticId: m.snap.id, time: m.snap.time } : { pvc: m.pvc, resticId: m.snap.id, time: m.snap.time };
  if (c.sizeBytes !== undefined) v.sizeBytes = c.sizeBytes;
  if (c.files !== undefined) v.files = c.files;
  if (c.addedBytes !== undefined) v.addedBytes = c.addedBytes;
  return v;
}

interface PhaseResult {
  readonly phase: SnapshotPhase;
  readonly missing: readonly string[];
}

/**
 * Complete only when every PVC the run lists is present; InProgress while the run is Pending or
 * Running; Partial otherwise. Without a run (no run tag, or the BackupRun is gone) nothing says
 * a volume is missing, so the snapshot is Complete.
 */
export function phaseOf(run: RunInfo | undefined, present: ReadonlySet<string>): PhaseResult {
  if (run === undefined) return { phase: "Complete", missing: [] };
  const expected = [...new Set(run.volumes.map((v) => v.pvc))].sort();
  const missing = expected.filter((p) => !present.has(p));
  if (run.phase === undefined || run.phase === "Pending" || run.phase === "Running") return { phase: "InProgress", missing };
  const complete = missing.length === 0 && (expected.length > 0 || run.phase === "Succeeded");
  return { phase: complete ? "Complete" : "Partial", missing };
}

/** What stays the same for every group of one call. */
interface Shared {
  readonly input: GroupInput;
  /** The policy label, when the policy's name is a valid label value. */
  readonly policyLabel: boolean;
}

function labelsOf(shared: Shared, run: string | undefined, pvcs: ReadonlySet<string>): Record<string, string> {
  const labels: Record<string, string> = {};
  if (shared.policyLabel) labels[LABELS.policy] = shared.input.policy.name;
  if (run !== undefined && isLabelValue(run)) labels[LABELS.run] = run;
  const [only] = pvcs;
  if (pvcs.size === 1 && only !== undefined && isLabelValue(only)) labels[LABELS.pvc] = only;
  return labels;
}

/** The order of Array.prototype.sort() without a comparator, for strings. */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts a short list in place (insertion sort: one member's tags or paths are a handful). */
function sortShort(out: string[]): void {
  if (out.length > 16) {
    out.sort(byCodeUnits);
    return;
  }
  for (let i = 1; i < out.length; i++) {
    const x = out[i] as string;
    let j = i - 1;
    for (; j >= 0 && (out[j] as string) > x; j--) out[j + 1] = out[j] as string;
    out[j + 1] = x;
  }
}

/** The sorted, de-duplicated union of string lists. */
function sortedUnion(lists: readonly (readonly string[] | null | undefined)[]): string[] {
  const out: string[] = [];
  for (const l of lists) if (l) for (const x of l) out.push(x);
  if (out.length < 2) return out;
  sortShort(out);
  let w = 1;
  for (let r = 1; r < out.length; r++) if (out[r] !== out[w - 1]) out[w++] = out[r] as string;
  out.length = w;
  return out;
}

interface Totals {
  volumes: number;
  sizeBytes: number;
  files: number;
  addedBytes: number;
}

function totalsOf(volumes: readonly SnapshotVolume[]): Totals {
  const t: Totals = { volumes: volumes.length, sizeBytes: 0, files: 0, addedBytes: 0 };
  for (const v of volumes) {
    t.sizeBytes += v.sizeBytes ?? 0;
    t.files += v.files ?? 0;
    t.addedBytes += v.addedBytes ?? 0;
  }
  return t;
}

function buildSnapshot(g: Group, shared: Shared, sig: string): LogicalSnapshot {
  const input = shared.input;
  const run = g.run === undefined ? undefined : input.runs.get(g.run);
  const members = g.members.length === 1 ? g.members : [...g.members].sort(byPvcTimeId);
  const volumes = members.map((m) => volumeOf(m, run));
  const present = new Set<string>();
  for (const m of members) if (m.pvc !== undefined) present.add(m.pvc);
  const { phase, missing } = phaseOf(run, present);
  let first = members[0] as Member;
  for (const m of members) if (m.ms < first.ms) first = m;
  const uidName = g.run === undefined ? `${input.repositoryId}/${first.snap.id}` : `${input.repositoryId}/${input.policy.namespace}/${g.run}`;
  const object: Snapshot = {
    apiVersion: SNAPSHOT_API_VERSION,
    kind: SNAPSHOT_KIND,
    metadata: {
      name: g.name,
      namespace: input.policy.namespace,
      uid: stableUid(uidName),
      resourceVersion: "",
      creationTimestamp: kubeTime(first.ms),
      labels: labelsOf(shared, g.run, present),
    },
    spec: { policy: input.policy.name, ...(g.run === undefined ? {} : { run: g.run }) },
    status: {
      phase,
      time: first.snap.time,
      volumes,
      ...(missing.length === 0 ? {} : { missingVolumes: [...missing] }),
      totals: totalsOf(volumes),
      ...(first.snap.hostname === undefined ? {} : { hostname: first.snap.hostname }),
      paths: sortedUnion(members.map((m) => m.snap.paths)),
      tags: sortedUnion(members.map((m) => m.snap.tags)),
    },
  };
  return { object, resticIds: members.map((m) => m.snap.id), sig };
}

/** The inputs one group's object is built from; the policy is the same for every call with `previous`. */
function signature(g: Group, input: GroupInput): string {
  const run = g.run === undefined ? undefined : input.runs.get(g.run);
  const ids = g.members.length === 1 ? (g.members[0] as Member).snap.id : g.members.map((m) => m.snap.id).sort().join(",");
  return `${input.repositoryId}\n${g.run === undefined ? "" : run === undefined ? "-" : JSON.stringify(run)}\n${ids}`;
}

function collect(input: GroupInput): Group[] {
  const groups = new Map<string, Group>();
  for (const snap of input.snapshots) {
    const tags = parseTags(snap.tags);
    if (tags.policy !== undefined && tags.policy !== input.policy.name) continue;
    const run = tags.run !== undefined && isObjectName(tags.run) ? tags.run : undefined;
    const name = run ?? `${input.policy.name}-${snap.id.slice(0, 8)}`;
    let group = groups.get(name);
    if (group === undefined) {
      group = { name, run, members: [] };
      groups.set(name, group);
    }
    group.members.push({ snap, pvc: tags.pvc, ms: timeMs(snap.time) });
  }
  return [...groups.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Groups one policy's restic snapshots into logical Snapshots, sorted by name. Snapshots tagged
 * for another policy (a shared repository) are skipped. A run tag that is not a valid object
 * name is treated as no run tag.
 */
export function groupSnapshots(input: GroupInput): LogicalSnapshot[] {
  const shared: Shared = { input, policyLabel: isLabelValue(input.policy.name) };
  return collect(input).map((g) => {
    const sig = signature(g, input);
    const before = input.previous?.get(g.name);
    return before !== undefined && before.sig === sig ? before : buildSnapshot(g, shared, sig);
  });
}
