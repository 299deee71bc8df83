/**
 * One logical Snapshot object from its group: the per-PVC restic snapshots of one BackupRun (or
 * one untagged restic snapshot), the run's status, the policy and the repository. Pure. Called
 * once per group and listing for thousands of groups on a cold start, so it builds each object
 * directly, without intermediate copies.
 * @module
 */
import { hash } from "node:crypto";
import { LABELS, SNAPSHOT_API_VERSION } from "../api/group.ts";
import { SNAPSHOT_KIND } from "../api/snapshot-names.ts";
import type { Snapshot, SnapshotPhase, SnapshotVolume } from "../api/snapshot.ts";
import type { PolicyRef, ResticSnapshotLike, ResticSummaryLike, RunInfo, RunVolumeInfo } from "./types.ts";

/** One member of a group: a restic snapshot and its pvc tag. */
export interface Member {
  readonly snap: ResticSnapshotLike;
  readonly pvc: string | undefined;
}

/** What every group of one policy's listing shares. */
export interface GroupContext {
  readonly policy: PolicyRef;
  /** The repository's ID; part of every UID so that two repositories never share one. */
  readonly repositoryId: string;
  /** The policy label, when the policy's name is a valid label value. */
  readonly policyLabel: boolean;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** Fixed namespace for the UUIDv5-style UIDs of Snapshots. */
const UID_NAMESPACE = Buffer.from("333bbc8ea9b94a6eb37e767866fe6588", "hex");
/** A restic time in UTC to whole seconds: its first 19 characters are metav1.Time's. */
const UTC_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

export function isObjectName(s: string): boolean {
  return s.length <= 253 && DNS_SUBDOMAIN.test(s);
}

export function isLabelValue(s: string): boolean {
  return s.length <= 63 && LABEL_VALUE.test(s);
}

/** The fixed namespace, then room for the name (grown when a name is longer). */
let uidInput = Buffer.alloc(256);
UID_NAMESPACE.copy(uidInput, 0);

const HEX = "0123456789abcdef";

/** UUIDv5 layout (SHA-1 of a fixed namespace and `name`, version and variant bits set). */
export function stableUid(name: string): string {
  const length = UID_NAMESPACE.length + Buffer.byteLength(name, "utf8");
  if (length > uidInput.length) {
    uidInput = Buffer.alloc(2 * length);
    UID_NAMESPACE.copy(uidInput, 0);
  }
  uidInput.write(name, UID_NAMESPACE.length, "utf8");
  const h = hash("sha1", uidInput.subarray(0, length), "hex");
  // Version 5 in the 13th hex digit, variant 10xx in the 17th.
  const variant = HEX[(parseInt(h[16] ?? "0", 16) & 0x3) | 0x8] ?? "8";
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** RFC 3339 in UTC, whole seconds, as Kubernetes prints metav1.Time. */
export function kubeTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** A restic time in milliseconds (0 when it does not parse). */
export function timeMs(time: string): number {
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? 0 : ms;
}

/** kubeTime of a restic time string; a UTC one needs no date arithmetic. */
export function kubeTimeOf(time: string): string {
  return UTC_TIME.test(time) ? `${time.slice(0, 19)}Z` : kubeTime(timeMs(time));
}

function runVolume(run: RunInfo | undefined, id: string, pvc: string | undefined): RunVolumeInfo | undefined {
  if (run === undefined) return undefined;
  return run.volumes.find((v) => v.snapshotId === id) ?? run.volumes.find((v) => v.snapshotId === undefined && v.pvc === pvc);
}

function runFiles(v: RunVolumeInfo | undefined): number | undefined {
  if (v === undefined) return undefined;
  const parts = [v.filesNew, v.filesChanged, v.filesUnmodified].filter((x): x is number => x !== undefined);
  return parts.length === 0 ? undefined : parts.reduce((a, b) => a + b, 0);
}

interface Counts {
  readonly sizeBytes: number | undefined;
  readonly files: number | undefined;
  readonly addedBytes: number | undefined;
}

/** Sizes from restic's summary, else from the run's status (looked up only when the summary lacks one). */
function countsOf(m: Member, run: RunInfo | undefined): Counts {
  const s: ResticSummaryLike = m.snap.summary ?? {};
  const complete = s.total_bytes_processed !== undefined && s.total_files_processed !== undefined && s.data_added !== undefined;
  const fromRun = complete ? undefined : runVolume(run, m.snap.id, m.pvc);
  return {
    sizeBytes: s.total_bytes_processed ?? fromRun?.bytesTotal,
    files: s.total_files_processed ?? runFiles(fromRun),
    addedBytes: s.data_added ?? fromRun?.bytesAdded,
  };
}

/** Optional fields are absent, never undefined; keys in the order the API documents them. */
function volumeOf(m: Member, run: RunInfo | undefined): SnapshotVolume {
  const v: { pvc?: string; resticId: string; time: string; sizeBytes?: number; files?: number; addedBytes?: number } =
    m.pvc === undefined ? { resticId: m.snap.id, time: m.snap.time } : { pvc: m.pvc, resticId: m.snap.id, time: m.snap.time };
  const c = countsOf(m, run);
  if (c.sizeBytes !== undefined) v.sizeBytes = c.sizeBytes;
  if (c.files !== undefined) v.files = c.files;
  if (c.addedBytes !== undefined) v.addedBytes = c.addedBytes;
  return v;
}

interface PhaseResult {
  readonly phase: SnapshotPhase;
  readonly missing: readonly string[];
}

const COMPLETE: PhaseResult = { phase: "Complete", missing: [] };

/**
 * Complete only when every PVC the run lists is present; InProgress while the run is Pending or
 * Running; Partial otherwise. Without a run (no run tag, or the BackupRun is gone) nothing says
 * a volume is missing, so the snapshot is Complete.
 */
export function phaseOf(run: RunInfo | undefined, present: ReadonlySet<string>): PhaseResult {
  if (run === undefined) return COMPLETE;
  const expected = [...new Set(run.volumes.map((v) => v.pvc))].sort();
  const missing = expected.filter((p) => !present.has(p));
  if (run.phase === undefined || run.phase === "Pending" || run.phase === "Running") return { phase: "InProgress", missing };
  const complete = missing.length === 0 && (expected.length > 0 || run.phase === "Succeeded");
  return { phase: complete ? "Complete" : "Partial", missing };
}

/** The order of Array.prototype.sort() without a comparator, for strings. */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isSortedUnique(list: readonly string[]): boolean {
  for (let i = 1; i < list.length; i++) if (!((list[i - 1] as string) < (list[i] as string))) return false;
  return true;
}

/** A short list sorted and de-duplicated by insertion (a snapshot's few tags; sort() costs more to set up). */
function sortedUniqueShort(list: readonly string[]): string[] {
  const out: string[] = [];
  for (const x of list) {
    let i = out.length;
    while (i > 0 && (out[i - 1] as string) > x) i--;
    if (i > 0 && out[i - 1] === x) continue;
    out.push(x);
    for (let j = out.length - 1; j > i; j--) out[j] = out[j - 1] as string;
    out[i] = x;
  }
  return out;
}

const SHORT_LIST = 16;

/** The sorted, de-duplicated union of string lists; one list that already is one is returned as it is. */
export function sortedUnion(lists: readonly (readonly string[] | null | undefined)[]): readonly string[] {
  const [only] = lists;
  if (lists.length === 1 && only) {
    if (isSortedUnique(only)) return only;
    if (only.length <= SHORT_LIST) return sortedUniqueShort(only);
  }
  const out: string[] = [];
  for (const l of lists) if (l) for (const x of l) out.push(x);
  if (out.length < 2) return out;
  out.sort(byCodeUnits);
  let w = 1;
  for (let r = 1; r < out.length; r++) if (out[r] !== out[w - 1]) out[w++] = out[r] as string;
  out.length = w;
  return out;
}

function labelsOf(ctx: GroupContext, run: string | undefined, pvcs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  if (ctx.policyLabel) labels[LABELS.policy] = ctx.policy.name;
  if (run !== undefined && isLabelValue(run)) labels[LABELS.run] = run;
  const [only] = pvcs;
  if (pvcs.length === 1 && only !== undefined && isLabelValue(only)) labels[LABELS.pvc] = only;
  return labels;
}

function totalsOf(volumes: readonly SnapshotVolume[]): { volumes: number; sizeBytes: number; files: number; addedBytes: number } {
  const t = { volumes: volumes.length, sizeBytes: 0, files: 0, addedBytes: 0 };
  for (const v of volumes) {
    t.sizeBytes += v.sizeBytes ?? 0;
    t.files += v.files ?? 0;
    t.addedBytes += v.addedBytes ?? 0;
  }
  return t;
}

/** The member that was taken first (earliest time; the first of equals). */
function firstOf(members: readonly Member[]): Member {
  let first = members[0] as Member;
  if (members.length === 1) return first;
  let firstMs = timeMs(first.snap.time);
  for (const m of members) {
    const ms = timeMs(m.snap.time);
    if (ms < firstMs) [first, firstMs] = [m, ms];
  }
  return first;
}

/** The distinct pvc tags of the members, sorted. */
function pvcsOf(members: readonly Member[]): string[] {
  const out: string[] = [];
  for (const m of members) if (m.pvc !== undefined && !out.includes(m.pvc)) out.push(m.pvc);
  return out.sort(byCodeUnits);
}

/**
 * The Snapshot object of one group (`run` undefined: one untagged restic snapshot), members in
 * pvc, time, ID order (the caller's order); resourceVersion still empty.
 */
export function snapshotObject(ctx: GroupContext, group: { readonly name: string; readonly run: string | undefined; readonly members: readonly Member[] }, run: RunInfo | undefined): Snapshot {
  const { name, members } = group;
  const volumes = members.map((m) => volumeOf(m, run));
  const pvcs = pvcsOf(members);
  const { phase, missing } = run === undefined ? COMPLETE : phaseOf(run, new Set(pvcs));
  const first = firstOf(members);
  const uidName = group.run === undefined ? `${ctx.repositoryId}/${first.snap.id}` : `${ctx.repositoryId}/${ctx.policy.namespace}/${group.run}`;
  // Built in the API's documented key order; optional keys absent, never undefined.
  const status: Record<string, unknown> = { phase, time: first.snap.time, volumes };
  if (missing.length > 0) status.missingVolumes = [...missing];
  status.totals = totalsOf(volumes);
  if (first.snap.hostname !== undefined) status.hostname = first.snap.hostname;
  status.paths = members.length === 1 ? sortedUnion([first.snap.paths]) : sortedUnion(members.map((m) => m.snap.paths));
  status.tags = members.length === 1 ? sortedUnion([first.snap.tags]) : sortedUnion(members.map((m) => m.snap.tags));
  return {
    apiVersion: SNAPSHOT_API_VERSION,
    kind: SNAPSHOT_KIND,
    metadata: {
      name,
      namespace: ctx.policy.namespace,
      uid: stableUid(uidName),
      resourceVersion: "",
      creationTimestamp: kubeTimeOf(first.snap.time),
      labels: labelsOf(ctx, group.run, pvcs),
    },
    spec: group.run === undefined ? { policy: ctx.policy.name } : { policy: ctx.policy.name, run: group.run },
    status: status as Snapshot["status"],
  };
}
