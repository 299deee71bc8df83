/**
 * Test fixtures for the apiserver's own tests: restic snapshot documents, a settable clock and
 * timers, in-memory repositories behind the SnapshotSources interface, and token/access
 * reviewers that answer like kube-apiserver does.
 * @module
 */
import type { AccessReviewer, SubjectAccessReviewSpec, SubjectAccessReviewStatus, TokenReviewer, TokenReviewStatus } from "./auth-types.ts";
import { createLogger } from "../kube/log.ts";
import type { Logger } from "../kube/log.ts";
import type { After, Clock, PolicyRef, ResticSnapshotLike, RunInfo, RunStatusLookup, SnapshotReadError, SnapshotSources, SourceBatch, SourceResult } from "./types.ts";
import { policyKey } from "./types.ts";

export const silentLog: Logger = createLogger({ name: "apiserver-test", level: "silent" });

export interface SnapOptions {
  readonly id: string;
  readonly time?: string;
  readonly policy?: string;
  readonly run?: string;
  readonly pvc?: string;
  readonly extraTags?: readonly string[];
  readonly bytes?: number;
  readonly files?: number;
  readonly added?: number;
  readonly noSummary?: boolean;
}

/** A 64-hex id starting with `prefix` (hex digits only). */
export function hexId(prefix: string): string {
  return (prefix + "0".repeat(64)).slice(0, 64);
}

export function resticSnap(o: SnapOptions): ResticSnapshotLike {
  const tags = [
    ...(o.policy === undefined ? [] : [`policy=${o.policy}`]),
    ...(o.run === undefined ? [] : [`run=${o.run}`]),
    ...(o.pvc === undefined ? [] : [`pvc=${o.pvc}`]),
    ...(o.extraTags ?? []),
  ];
  return {
    id: o.id,
    time: o.time ?? "2025-01-02T03:04:05.123456789Z",
    hostname: "pw-backup-job",
    paths: [`/data/${o.pvc ?? "x"}`],
    tags,
    ...(o.noSummary ? {} : { summary: { total_bytes_processed: o.bytes ?? 1000, total_files_processed: o.files ?? 10, data_added: o.added ?? 100 } }),
  };
}

export interface ManualClock extends Clock {
  advance(ms: number): void;
  set(ms: number): void;
}

export function manualClock(start = Date.parse("2025-01-02T04:04:05Z")): ManualClock {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms), set: (ms) => void (t = ms) };
}

export interface ManualTimers {
  readonly after: After;
  /** Runs every pending timer (as if their time had come). */
  fireAll(): void;
  pending(): number;
}

export function manualTimers(): ManualTimers {
  const timers = new Set<() => void>();
  return {
    after: (_ms, fn) => {
      const entry = (): void => fn();
      timers.add(entry);
      return () => timers.delete(entry);
    },
    fireAll() {
      const all = [...timers];
      timers.clear();
      for (const t of all) t();
    },
    pending: () => timers.size,
  };
}

type RepoState = { repositoryId: string; snapshots: ResticSnapshotLike[]; errors: SnapshotReadError[] } | { failure: { reason: string; message: string } };

/** In-memory repositories behind SnapshotSources; forget really removes the snapshot. */
export class MemorySources implements SnapshotSources {
  readonly repos = new Map<string, RepoState>();
  readonly forgotten: string[] = [];
  policiesFailure: string | undefined;
  forgetFailure: string | undefined;
  /** Set: list tells its snapshots in batches of this size, awaiting `betweenBatches` after each. */
  batchSize: number | undefined;
  betweenBatches: () => Promise<void> = async () => undefined;

  set(policy: PolicyRef, snapshots: ResticSnapshotLike[], errors: SnapshotReadError[] = []): void {
    this.repos.set(policyKey(policy), { repositoryId: `repo-${policy.name}`, snapshots, errors });
  }

  fail(policy: PolicyRef, reason: string, message: string): void {
    this.repos.set(policyKey(policy), { failure: { reason, message } });
  }

  remove(policy: PolicyRef): void {
    this.repos.delete(policyKey(policy));
  }

  async policies(): Promise<readonly PolicyRef[]> {
    if (this.policiesFailure !== undefined) throw new Error(this.policiesFailure);
    return [...this.repos.keys()].map((k) => {
      const [namespace = "", name = ""] = k.split("/");
      return { namespace, name };
    });
  }

  async list(policy: PolicyRef, onBatch?: (batch: SourceBatch) => void): Promise<SourceResult> {
    const repo = this.repos.get(policyKey(policy));
    if (repo === undefined) return { ok: false, error: { reason: "PolicyNotFound", message: `BackupPolicy ${policyKey(policy)} not found` } };
    if ("failure" in repo) return { ok: false, error: repo.failure };
    // What the repository held when the listing started (a forget meanwhile is not seen).
    const snapshots = [...repo.snapshots];
    const size = this.batchSize;
    for (let i = 0; onBatch !== undefined && size !== undefined && i < snapshots.length; i += size) {
      onBatch({ repositoryId: repo.repositoryId, snapshots: snapshots.slice(i, i + size) });
      await this.betweenBatches();
    }
    return { ok: true, repositoryId: repo.repositoryId, snapshots, errors: repo.errors };
  }

  async forget(policy: PolicyRef, resticId: string): Promise<void> {
    if (this.forgetFailure !== undefined) throw new Error(this.forgetFailure);
    const repo = this.repos.get(policyKey(policy));
    if (repo !== undefined && !("failure" in repo)) repo.snapshots = repo.snapshots.filter((s) => s.id !== resticId);
    this.forgotten.push(resticId);
  }
}

export class MemoryRuns implements RunStatusLookup {
  readonly runsByPolicy = new Map<string, Map<string, RunInfo>>();
  failure: string | undefined;

  set(policy: PolicyRef, run: string, info: RunInfo): void {
    const key = policyKey(policy);
    const m = this.runsByPolicy.get(key) ?? new Map<string, RunInfo>();
    m.set(run, info);
    this.runsByPolicy.set(key, m);
  }

  async runs(policy: PolicyRef): Promise<ReadonlyMap<string, RunInfo>> {
    if (this.failure !== undefined) throw new Error(this.failure);
    return this.runsByPolicy.get(policyKey(policy)) ?? new Map();
  }
}

/** Answers like the TokenReview API: unknown tokens are `authenticated: false`. */
export class TableTokenReviewer implements TokenReviewer {
  readonly users = new Map<string, { username: string; groups: string[]; uid?: string; extra?: Record<string, string[]> }>();
  calls = 0;

  async review(token: string): Promise<TokenReviewStatus> {
    this.calls++;
    const user = this.users.get(token);
    if (user === undefined) return { authenticated: false, error: "invalid bearer token" };
    return { authenticated: true, user: { ...user, groups: [...user.groups] }, audiences: ["https://kubernetes.default.svc"] };
  }
}

/** Answers like SubjectAccessReview: allowed by a rule, else `allowed: false` with a reason. */
export class RuleAccessReviewer implements AccessReviewer {
  readonly specs: SubjectAccessReviewSpec[] = [];
  rule: (spec: SubjectAccessReviewSpec) => boolean = () => true;
  denyReason = "";

  async review(spec: SubjectAccessReviewSpec): Promise<SubjectAccessReviewStatus> {
    this.specs.push(spec);
    if (this.rule(spec)) return { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "test"' };
    return this.denyReason === "" ? { allowed: false } : { allowed: false, reason: this.denyReason };
  }
}
