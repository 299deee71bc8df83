/**
 * Pure grouping of one policy's restic snapshots into logical Snapshots: the per-PVC snapshots
 * of one BackupRun (restic tag `run=`) become one Snapshot named after the run; a snapshot with
 * no run tag becomes `<policy>-<first 8 hex of its id>`.
 * @module
 */
import { createHash } from "node:crypto";
import { LABELS, SNAPSHOT_API_VERSION } from "../api/group.ts";
import { SNAPSHOT_KIND } from "../api/snapshot.ts";
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
}

/** A Snapshot object (resourceVersion still empty) and the restic snapshots it is made of. */
export interface LogicalSnapshot {
  readonly object: Snapshot;
  readonly resticIds: readonly string[];
}

interface Group {
  readonly name: string;
  readonly run: string | undefined;
  readonly members: ResticSnapshotLike[];
  readonly pvcs: Map<string, string | undefined>;
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
  const b = createHash("sha1").update(UID_NAMESPACE).update(name, "utf8").digest().subarray(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x50;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** RFC 3339 in UTC, whole seconds, as Kubernetes prints metav1.Time. */
export function kubeTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

function timeMs(s: ResticSnapshotLike): number {
  const ms = Date.parse(s.time);
  return Number.isNaN(ms) ? 0 : ms;
}

function byPvcTimeId(pvcs: Map<string, string | undefined>) {
  return (a: ResticSnapshotLike, b: ResticSnapshotLike): number => {
    const pa = pvcs.get(a.id) ?? "";
    const pb = pvcs.get(b.id) ?? "";
    if (pa !== pb) return pa < pb ? -1 : 1;
    const dt = timeMs(a) - timeMs(b);
    if (dt !== 0) return dt;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}

function sumDefined(...xs: (number | undefined)[]): number | undefined {
  const defined = xs.filter((x): x is number => x !== undefined);
  return defined.length === 0 ? undefined : defined.reduce((a, b) => a + b, 0);
}

function runVolume(run: RunInfo | undefined, id: string, pvc: string | undefined): RunVolumeInfo | undefined {
  if (run === undefined) return undefined;
  return run.volumes.find((v) => v.snapshotId === id) ?? run.volumes.find((v) => v.snapshotId === undefined && v.pvc === pvc);
}

function volumeOf(snap: ResticSnapshotLike, pvc: string | undefined, run: RunInfo | undefined): SnapshotVolume {
  const fromRun = runVolume(run, snap.id, pvc);
  const s = snap.summary;
  const sizeBytes = s?.total_bytes_processed ?? fromRun?.bytesTotal;
  const files = s?.total_files_processed ?? sumDefined(fromRun?.filesNew, fromRun?.filesChanged, fromRun?.filesUnmodified);
  const addedBytes = s?.data_added ?? fromRun?.bytesAdded;
  return withoutUndefined({ pvc, resticId: snap.id, time: snap.time, sizeBytes, files, addedBytes });
}

/** Drops the keys whose value is undefined (optional fields are absent, never undefined). */
function withoutUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
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

function labelsOf(policy: string, run: string | undefined, pvcs: ReadonlySet<string>): Record<string, string> {
  const labels: Record<string, string> = {};
  if (isLabelValue(policy)) labels[LABELS.policy] = policy;
  if (run !== undefined && isLabelValue(run)) labels[LABELS.run] = run;
  const [only] = pvcs;
  if (pvcs.size === 1 && only !== undefined && isLabelValue(only)) labels[LABELS.pvc] = only;
  return labels;
}

function sortedUnion(lists: readonly (readonly string[] | null | undefined)[]): string[] {
  return [...new Set(lists.flatMap((l) => l ?? []))].sort();
}

function buildSnapshot(g: Group, input: GroupInput): LogicalSnapshot {
  const run = g.run === undefined ? undefined : input.runs.get(g.run);
  const members = [...g.members].sort(byPvcTimeId(g.pvcs));
  const volumes = members.map((m) => volumeOf(m, g.pvcs.get(m.id), run));
  const present = new Set(volumes.flatMap((v) => (v.pvc === undefined ? [] : [v.pvc])));
  const { phase, missing } = g.run === undefined ? phaseOf(undefined, present) : phaseOf(run, present);
  const first = members.reduce((a, b) => (timeMs(b) < timeMs(a) ? b : a));
  const uidName = g.run === undefined ? `${input.repositoryId}/${first.id}` : `${input.repositoryId}/${input.policy.namespace}/${g.run}`;
  const object: Snapshot = {
    apiVersion: SNAPSHOT_API_VERSION,
    kind: SNAPSHOT_KIND,
    metadata: {
      name: g.name,
      namespace: input.policy.namespace,
      uid: stableUid(uidName),
      resourceVersion: "",
      creationTimestamp: kubeTime(timeMs(first)),
      labels: labelsOf(input.policy.name, g.run, present),
    },
    spec: { policy: input.policy.name, ...(g.run === undefined ? {} : { run: g.run }) },
    status: {
      phase,
      time: first.time,
      volumes,
      ...(missing.length === 0 ? {} : { missingVolumes: [...missing] }),
      totals: {
        volumes: volumes.length,
        sizeBytes: volumes.reduce((a, v) => a + (v.sizeBytes ?? 0), 0),
        files: volumes.reduce((a, v) => a + (v.files ?? 0), 0),
        addedBytes: volumes.reduce((a, v) => a + (v.addedBytes ?? 0), 0),
      },
      ...(first.hostname === undefined ? {} : { hostname: first.hostname }),
      paths: sortedUnion(members.map((m) => m.paths)),
      tags: sortedUnion(members.map((m) => m.tags)),
    },
  };
  return { object, resticIds: members.map((m) => m.id) };
}

/**
 * Groups one policy's restic snapshots into logical Snapshots, sorted by name. Snapshots tagged
 * for another policy (a shared repository) are skipped. A run tag that is not a valid object
 * name is treated as no run tag.
 */
export function groupSnapshots(input: GroupInput): LogicalSnapshot[] {
  const groups = new Map<string, Group>();
  for (const snap of input.snapshots) {
    const tags = parseTags(snap.tags);
    if (tags.policy !== undefined && tags.policy !== input.policy.name) continue;
    const run = tags.run !== undefined && isObjectName(tags.run) ? tags.run : undefined;
    const name = run ?? `${input.policy.name}-${snap.id.slice(0, 8)}`;
    let group = groups.get(name);
    if (group === undefined) {
      group = { name, run, members: [], pvcs: new Map() };
      groups.set(name, group);
    }
    group.members.push(snap);
    group.pvcs.set(snap.id, tags.pvc);
  }
  const sorted = [...groups.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return sorted.map((g) => buildSnapshot(g, input));
}
