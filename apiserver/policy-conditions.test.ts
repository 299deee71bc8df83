import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Condition } from "../api/meta.ts";
import { createConditionWriter, desiredCondition, nextCondition, SNAPSHOTS_AVAILABLE, WRONG_PASSWORD_ADVICE } from "./policy-conditions.ts";
import type { PolicyView } from "./policy-conditions.ts";
import { manualClock, silentLog } from "./test-fixtures.ts";
import type { PolicyRef } from "./types.ts";

const ref: PolicyRef = { namespace: "shop", name: "web" };
const policy: PolicyView = { spec: { storageRef: { name: "nas" }, repository: { path: "backups/c1/web-abc12", passwordSecretName: "pw-backup-abc12" } } };
const fail = (reason: string, message = `restic repository /x: ${reason}`) => ({ policy: ref, problem: { reason, message }, unreadable: [] });

describe("desiredCondition", () => {
  const cases = [
    { name: "listed", e: { policy: ref, unreadable: [] }, status: "True", reason: "Listed", message: /^The restic repository was listed; kubectl get snapshots shows its snapshots\.$/ },
    {
      name: "listed with unreadable files",
      e: { policy: ref, unreadable: [{ id: "ab12", code: "CorruptFile", message: "bad MAC" }] },
      status: "True",
      reason: "Listed",
      message: /1 snapshot file\(s\) could not be read .* e\.g\. ab12: bad MAC$/,
    },
    { name: "wrong password: the seed's troubleshooting text", e: fail("WrongPassword"), status: "False", reason: "WrongPassword", message: /Secret pw-backup-abc12 \(key RESTIC_PASSWORD\).*Password mismatch \/ ciphertext verification failed: The repo was initialized with a different password\. Delete the policy/ },
    { name: "unreachable: names the StorageConnection", e: fail("BackendUnreachable"), status: "False", reason: "BackendUnreachable", message: /BackendUnreachable\. Check that the storage of StorageConnection nas is reachable/ },
    { name: "not found: names the path", e: fail("RepositoryNotFound"), status: "False", reason: "RepositoryNotFound", message: /Check spec\.repository\.path "backups\/c1\/web-abc12" and StorageConnection nas/ },
    { name: "access denied", e: fail("AccessDenied"), status: "False", reason: "AccessDenied", message: /credentials of StorageConnection nas/ },
    { name: "other reasons keep the reader's message", e: fail("SecretNotFound", "BackupPolicy shop/web: Secret shop/pw-backup-abc12 does not exist"), status: "False", reason: "SecretNotFound", message: /^BackupPolicy shop\/web: Secret shop\/pw-backup-abc12 does not exist$/ },
  ] as const;
  for (const c of cases) {
    it(c.name, () => {
      const d = desiredCondition(c.e, policy);
      assert.equal(d.type, SNAPSHOTS_AVAILABLE);
      assert.equal(d.status, c.status);
      assert.equal(d.reason, c.reason);
      assert.match(d.message ?? "", c.message);
    });
  }
  it("the wrong-password advice is the seed's text", () => {
    assert.match(WRONG_PASSWORD_ADVICE, /^Password mismatch \/ ciphertext verification failed: /);
  });
});

describe("nextCondition", () => {
  const desired = { type: SNAPSHOTS_AVAILABLE, status: "False", reason: "WrongPassword", message: "m" } as const;
  const cases = [
    { name: "new condition: now", current: undefined, want: "2025-01-02T04:04:05Z" },
    { name: "same status: keeps the transition time", current: { status: "False", lastTransitionTime: "2024-01-01T00:00:00Z" }, want: "2024-01-01T00:00:00Z" },
    { name: "status flips: now", current: { status: "True", lastTransitionTime: "2024-01-01T00:00:00Z" }, want: "2025-01-02T04:04:05Z" },
  ] as const;
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(nextCondition(c.current, desired, Date.parse("2025-01-02T04:04:05.678Z")).lastTransitionTime, c.want);
    });
  }
});

/** A policy store whose status changes only when the test says the watch delivered it. */
function fakeCluster() {
  const writes: Condition[] = [];
  let shown: Condition | undefined;
  let exists = true;
  let failNext = false;
  return {
    writes,
    deliver: () => void (shown = writes.at(-1)),
    overwrite: (c: Condition) => void (shown = c),
    remove: () => void (exists = false),
    failOnce: () => void (failNext = true),
    getPolicy: (): PolicyView | undefined => (exists ? { ...policy, status: shown === undefined ? {} : { conditions: [shown] } } : undefined),
    apply: async (_ref: PolicyRef, c: Condition) => {
      if (failNext) {
        failNext = false;
        throw new Error("conflict");
      }
      writes.push(c);
    },
  };
}

describe("createConditionWriter", () => {
  const ok = { policy: ref, unreadable: [] };
  it("writes only when the condition changes, and not again while the watch lags", async () => {
    const k = fakeCluster();
    const w = createConditionWriter({ getPolicy: k.getPolicy, apply: k.apply, clock: manualClock(), log: silentLog });
    w.observe(ok);
    await w.idle();
    w.observe(ok);
    await w.idle();
    assert.equal(k.writes.length, 1, "the watch has not shown the first write yet: no second write");
    k.deliver();
    w.observe(ok);
    await w.idle();
    assert.equal(k.writes.length, 1);
    w.observe(fail("WrongPassword"));
    await w.idle();
    assert.deepEqual(k.writes.map((c) => [c.status, c.reason]), [["True", "Listed"], ["False", "WrongPassword"]]);
  });
  it("writes again when someone else changed the condition", async () => {
    const k = fakeCluster();
    const w = createConditionWriter({ getPolicy: k.getPolicy, apply: k.apply, clock: manualClock(), log: silentLog });
    w.observe(ok);
    await w.idle();
    k.overwrite({ type: SNAPSHOTS_AVAILABLE, status: "Unknown", reason: "Edited", lastTransitionTime: "2024-01-01T00:00:00Z" });
    w.observe(ok);
    await w.idle();
    assert.equal(k.writes.length, 2);
  });
  it("retries after a failed write; skips a policy that is gone", async () => {
    const k = fakeCluster();
    const w = createConditionWriter({ getPolicy: k.getPolicy, apply: k.apply, clock: manualClock(), log: silentLog });
    k.failOnce();
    w.observe(ok);
    await w.idle();
    assert.equal(k.writes.length, 0);
    w.observe(ok);
    await w.idle();
    assert.equal(k.writes.length, 1);
    k.remove();
    w.observe(fail("WrongPassword"));
    await w.idle();
    assert.equal(k.writes.length, 1);
  });
  it("coalesces outcomes that arrive during a write: the latest wins", async () => {
    const k = fakeCluster();
    const w = createConditionWriter({ getPolicy: k.getPolicy, apply: k.apply, clock: manualClock(), log: silentLog });
    w.observe(fail("BackendUnreachable"));
    w.observe(fail("WrongPassword"));
    w.observe(ok);
    await w.idle();
    assert.deepEqual(k.writes.map((c) => c.reason), ["BackendUnreachable", "Listed"]);
  });
});
