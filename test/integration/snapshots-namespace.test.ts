// Deleting a namespace never deletes backups: with kube-controller-manager running, the
// namespace controller lists and deletes every Snapshot in the namespace; the Snapshot API
// answers those deletes as done without forgetting any restic snapshot, the rows leave with the
// namespace's BackupPolicies, and the namespace deletion completes.
//
// The policy carries a finalizer while the namespace is deleted, so its Snapshots are certain
// to be listed (and deleted) by the namespace controller before the policy goes; without it,
// the controller may delete the policy first and find no Snapshots left at all.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { waitFor, withLogTails } from "../env/wait.ts";
import type { ResticCliOptions } from "../support/restic-cli.ts";
import { resticBackup, resticInit, resticSnapshots } from "../support/restic-cli.ts";
import { backupPolicy, backupRun, namespace, nfsRepoDir, nfsStorage, secret, setRunStatus, startSnapshotEnv } from "../support/snapshot-env.ts";
import type { SnapshotEnv } from "../support/snapshot-env.ts";

const NFS = { server: "nas.local", path: "/exports/backups" } as const;
const NS = "doomed";
const IGNORED = "snapshot delete by the namespace controller answered without forgetting";
const HOLD = "podwarden.test/hold";

let env: SnapshotEnv;
let repo: ResticCliOptions;
const ids: string[] = [];

/** The server's log lines saying a namespace-controller delete was answered without forgetting. */
function ignoredDeletes(): { namespace: string; snapshot: string; user: string }[] {
  return env
    .serverLog()
    .split("\n")
    .filter((l) => l.includes(IGNORED))
    .map((l) => JSON.parse(l) as { namespace: string; snapshot: string; user: string });
}

function withFinalizer(o: Record<string, unknown>): Record<string, unknown> {
  return { ...o, metadata: { ...(o["metadata"] as Record<string, unknown>), finalizers: [HOLD] } };
}

before(async () => {
  env = await startSnapshotEnv({ controllerManager: true });
  await withLogTails([env], async () => {
    const src = join(env.dir, "volumes", "data");
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, "a.bin"), Buffer.alloc(3000, 1));
    repo = { repo: nfsRepoDir(env, NFS, "backups/test/app-n4m3s"), password: "app-password" };
    await resticInit({ ...repo, version: 2 });
    for (const run of ["app-run-1", "app-run-2"]) ids.push(await resticBackup({ ...repo, dir: src, tags: [`policy=app`, `run=${run}`, "pvc=data"] }));
    await env.apply([
      namespace(NS),
      nfsStorage("nas", NFS),
      secret(NS, "pw-backup-n4m3s", { RESTIC_PASSWORD: "app-password" }),
      withFinalizer(backupPolicy({ namespace: NS, name: "app", storage: "nas", repoPath: "backups/test/app-n4m3s", passwordSecret: "pw-backup-n4m3s" })),
      backupRun(NS, "app-run-1", "app"),
      backupRun(NS, "app-run-2", "app"),
    ]);
    for (const [i, run] of ["app-run-1", "app-run-2"].entries()) {
      await setRunStatus(env.cp, { namespace: NS, name: run }, { phase: "Succeeded", volumes: [{ pvc: "data", phase: "Succeeded", snapshotId: ids[i] as string }] });
    }
    await waitFor(async () => (await env.cp.kubectl(["get", "snapshots", "-n", NS, "-o", "name"])).stdout.split("\n").filter(Boolean).length === 2, {
      what: "both snapshots listed",
      timeoutMs: 60_000,
      intervalMs: 250,
    });
  });
});
after(async () => env?.stop());

describe("namespace deletion keeps backups", () => {
  it("a delete by the namespace controller's ServiceAccount is answered as done and forgets nothing", async () => {
    const r = await env.cp.kubectl(["delete", "snapshot", "app-run-1", "-n", NS, "--wait=false", "--as=system:serviceaccount:kube-system:namespace-controller"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'snapshot.snapshots.backup.podwarden.io "app-run-1" deleted');
    assert.deepEqual((await resticSnapshots(repo)).map((s) => s["id"]), ids);
    assert.equal((await env.cp.kubectl(["get", "snapshot", "app-run-1", "-n", NS])).code, 0, "the row is still there");
    assert.deepEqual(ignoredDeletes().map((e) => [e.namespace, e.snapshot, e.user]), [[NS, "app-run-1", "system:serviceaccount:kube-system:namespace-controller"]]);
  });

  it("the namespace controller's deletes forget nothing; the namespace goes once its policy has gone", async () => {
    const earlier = ignoredDeletes().length;
    await withLogTails([env], async () => {
      await env.cp.kubectlOk(["delete", "namespace", NS, "--wait=false"]);
      await waitFor(async () => ignoredDeletes().length > earlier, { what: "the namespace controller deleting Snapshots", timeoutMs: 120_000, intervalMs: 250 });
      assert.deepEqual((await resticSnapshots(repo)).map((s) => s["id"]), ids, "restic still lists every snapshot");
      const remaining = async () => env.cp.kubectlOk(["get", "namespace", NS, "-o", 'jsonpath={.status.conditions[?(@.type=="NamespaceContentRemaining")].message}']);
      await waitFor(async () => /snapshots\.snapshots\.backup\.podwarden\.io has 2 resource instances/.test(await remaining()), {
        what: "the namespace controller reporting the Snapshots as remaining content",
        timeoutMs: 60_000,
        intervalMs: 250,
      });
      await env.cp.kubectlOk(["patch", "backuppolicy", "app", "-n", NS, "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]']);
      await waitFor(async () => (await env.cp.kubectl(["get", "namespace", NS])).stderr.includes("NotFound"), {
        what: `namespace ${NS} deleted by kube-controller-manager`,
        timeoutMs: 180_000,
        intervalMs: 500,
      });
    });
    assert.deepEqual((await resticSnapshots(repo)).map((s) => s["id"]), ids, "restic still lists every snapshot");
    const byController = ignoredDeletes().slice(earlier);
    assert.deepEqual([...new Set(byController.map((e) => e.namespace))], [NS]);
    assert.deepEqual([...new Set(byController.map((e) => e.snapshot))].sort(), ["app-run-1", "app-run-2"]);
    const left = await env.cp.kubectl(["get", "snapshots", "-n", NS]);
    assert.match(left.stderr, /No resources found in doomed namespace\./);
  });
});
