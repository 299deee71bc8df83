/**
 * The `SnapshotsAvailable` condition on each BackupPolicy: True (reason Listed) while its
 * repository can be listed, False with the reader's typed reason (WrongPassword,
 * BackendUnreachable, RepositoryNotFound, …) and a message saying what to check. Written with
 * server-side apply on the status subresource under its own field manager, and only when the
 * status, reason or message differ from what the policy already shows.
 * @module
 */
import type { Condition } from "../api/meta.ts";
import type { Logger } from "../kube/log.ts";
import { kubeTime } from "./snapshot-object.ts";
import type { ListedEvent } from "./index.ts";
import { policyKey } from "./types.ts";
import type { Clock, PolicyRef, SourceFailure } from "./types.ts";

export const SNAPSHOTS_AVAILABLE = "SnapshotsAvailable" as const;
/** The field manager of the apiserver's status writes (`kubectl get backuppolicy --show-managed-fields`). */
export const CONDITION_FIELD_MANAGER = "podwarden-snapshots-api" as const;

/** The product's troubleshooting text for a wrong repository password (seed, "Troubleshooting"). */
export const WRONG_PASSWORD_ADVICE =
  "Password mismatch / ciphertext verification failed: The repo was initialized with a different password. Delete the policy, create a new one (fresh repo path and password), and run a backup.";

/** The fields of a BackupPolicy the condition reads. */
export interface PolicyView {
  readonly spec?: {
    readonly storageRef?: { readonly name?: string };
    readonly repository?: { readonly path?: string; readonly passwordSecretName?: string };
  };
  readonly status?: { readonly conditions?: readonly Partial<Condition>[] };
}

export type DesiredCondition = Pick<Condition, "type" | "status" | "reason" | "message">;

interface HintInput {
  readonly storage: string;
  readonly path: string;
  readonly secret: string;
}

/** What to check, per reason; other reasons keep the reader's message, which already says it. */
const HINTS: Readonly<Record<string, (h: HintInput) => string>> = {
  WrongPassword: (h) => `The password in Secret ${h.secret} (key RESTIC_PASSWORD) does not open the repository. ${WRONG_PASSWORD_ADVICE}`,
  BackendUnreachable: (h) => `Check that the storage of StorageConnection ${h.storage} is reachable from the snapshot API (S3 endpoint, DNS, network; NFS mount).`,
  RepositoryNotFound: (h) =>
    `Check spec.repository.path "${h.path}" and StorageConnection ${h.storage} (bucket, prefix or NFS path); the first backup run initializes the repository.`,
  AccessDenied: (h) => `Check the credentials of StorageConnection ${h.storage} (its S3 credentials Secret) and that they may read the repository.`,
};

function hint(policy: PolicyView, problem: SourceFailure): string {
  const make = HINTS[problem.reason];
  if (make === undefined) return "";
  const repo = policy.spec?.repository;
  return make({ storage: policy.spec?.storageRef?.name ?? "", path: repo?.path ?? "", secret: repo?.passwordSecretName ?? "" });
}

/** The condition a listing outcome calls for. */
export function desiredCondition(e: ListedEvent, policy: PolicyView): DesiredCondition {
  if (e.problem !== undefined) {
    const advice = hint(policy, e.problem);
    const message = advice === "" ? e.problem.message : `${e.problem.message}. ${advice}`;
    return { type: SNAPSHOTS_AVAILABLE, status: "False", reason: e.problem.reason, message };
  }
  const [first] = e.unreadable;
  const skipped =
    first === undefined ? "" : ` ${e.unreadable.length} snapshot file(s) could not be read and are left out (restic skips them too), e.g. ${first.id}: ${first.message}`;
  return { type: SNAPSHOTS_AVAILABLE, status: "True", reason: "Listed", message: `The restic repository was listed; kubectl get snapshots shows its snapshots.${skipped}` };
}

function currentOf(policy: PolicyView): Partial<Condition> | undefined {
  return policy.status?.conditions?.find((c) => c.type === SNAPSHOTS_AVAILABLE);
}

function signature(c: Partial<Condition> | undefined): string {
  return c === undefined ? "" : JSON.stringify([c.status, c.reason, c.message ?? ""]);
}

/** The full condition to write: lastTransitionTime moves only when the status changes. */
export function nextCondition(current: Partial<Condition> | undefined, desired: DesiredCondition, now: number): Condition {
  const keep = current?.status === desired.status && typeof current.lastTransitionTime === "string";
  return { ...desired, lastTransitionTime: keep ? (current.lastTransitionTime as string) : kubeTime(now) };
}

export interface ConditionWriterDeps {
  /** The policy as the watch-backed cache has it; undefined when it is gone. */
  readonly getPolicy: (ref: PolicyRef) => PolicyView | undefined;
  /** Server-side apply of `status.conditions: [condition]`; resolves when written (or the policy is gone). */
  readonly apply: (ref: PolicyRef, condition: Condition) => Promise<void>;
  readonly clock: Clock;
  readonly log: Logger;
}

export interface ConditionWriter {
  /** Feeds one listing outcome (the index's onListed). */
  observe(e: ListedEvent): void;
  /** Resolves when no write is in flight (for tests). */
  idle(): Promise<void>;
}

interface Slot {
  /**
   * What this process last wrote and what the cache showed then: while the cache still shows
   * the old condition, the write is not repeated (the watch is a moment behind).
   */
  written: { readonly sig: string; readonly over: string } | undefined;
  busy: Promise<void> | undefined;
  next: ListedEvent | undefined;
}

export function createConditionWriter(deps: ConditionWriterDeps): ConditionWriter {
  const slots = new Map<string, Slot>();

  async function write(slot: Slot, e: ListedEvent): Promise<void> {
    const policy = deps.getPolicy(e.policy);
    if (policy === undefined) return;
    const desired = desiredCondition(e, policy);
    const sig = signature(desired);
    const current = currentOf(policy);
    const shown = signature(current);
    if (sig === shown || (slot.written?.sig === sig && slot.written.over === shown)) return;
    try {
      await deps.apply(e.policy, nextCondition(current, desired, deps.clock.now()));
      slot.written = { sig, over: shown };
      deps.log.info({ policy: policyKey(e.policy), status: desired.status, reason: desired.reason }, "policy condition SnapshotsAvailable written");
    } catch (err) {
      slot.written = undefined;
      deps.log.warn({ policy: policyKey(e.policy), error: err instanceof Error ? err.message : String(err) }, "policy condition SnapshotsAvailable not written; retrying on the next listing");
    }
  }

  function run(key: string, slot: Slot, e: ListedEvent): void {
    slot.busy = (async () => {
      let current: ListedEvent | undefined = e;
      while (current !== undefined) {
        slot.next = undefined;
        await write(slot, current);
        current = slot.next;
      }
    })().finally(() => {
      slot.busy = undefined;
      if (deps.getPolicy(e.policy) === undefined) slots.delete(key);
    });
  }

  return {
    observe(e) {
      const key = policyKey(e.policy);
      let slot = slots.get(key);
      if (slot === undefined) {
        slot = { written: undefined, busy: undefined, next: undefined };
        slots.set(key, slot);
      }
      if (slot.busy !== undefined) {
        slot.next = e;
        return;
      }
      run(key, slot, e);
    },
    async idle() {
      for (;;) {
        const busy = [...slots.values()].flatMap((s) => (s.busy === undefined ? [] : [s.busy]));
        if (busy.length === 0) return;
        await Promise.all(busy);
      }
    },
  };
}
