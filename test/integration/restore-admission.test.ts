// A RestoreRun is checked before anything starts: the admission webhook asks the Snapshot API
// (through kube-apiserver's aggregator) whether the snapshot exists, belongs to the policy, is
// Complete and holds the volumes asked for. Real restic repository, real kubectl.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { resticBackup, resticInit } from "../support/restic-cli.ts";
import { backupPolicy, backupRun, namespace, nfsRepoDir, nfsStorage, secret, setRunStatus, startSnapshotEnv } from "../support/snapshot-env.ts";
import type { SnapshotEnv } from "../support/snapshot-env.ts";
import type { RunningWebhook } from "../support/webhook-env.ts";
import { startWebhook } from "../support/webhook-env.ts";
import { waitFor } from "../env/wait.ts";

const NFS = { server: "nas.local", path: "/exports" } as const;
let env: SnapshotEnv;
let webhook: RunningWebhook;

before(async () => {
  env = await startSnapshotEnv();
  webhook = await startWebhook(env.cp);
  const src = join(env.dir, "src");
  for (const pvc of ["data", "logs"]) {
    mkdirSync(join(src, pvc), { recursive: true });
    writeFileSync(join(src, pvc, "f"), pvc);
  }
  const repo = { repo: nfsRepoDir(env, NFS, "backups/test/web-r1"), password: "pw" };
  await resticInit({ ...repo, version: 2 });
  const tag = (run: string, pvc: string) => [`policy=web`, `run=${run}`, `pvc=${pvc}`];
  const ids = {
    d1: await resticBackup({ ...repo, dir: join(src, "data"), tags: tag("web-run-1", "data") }),
    l1: await resticBackup({ ...repo, dir: join(src, "logs"), tags: tag("web-run-1", "logs") }),
    d2: await resticBackup({ ...repo, dir: join(src, "data"), tags: tag("web-run-2", "data") }),
  };
  await env.apply([
    namespace("shop"),
    nfsStorage("nas", NFS),
    secret("shop", "pw-backup-r1", { RESTIC_PASSWORD: "pw" }),
    backupPolicy({ namespace: "shop", name: "web", storage: "nas", repoPath: "backups/test/web-r1", passwordSecret: "pw-backup-r1" }),
    backupPolicy({ namespace: "shop", name: "other", storage: "nas", repoPath: "backups/test/other-r1", passwordSecret: "pw-backup-r1" }),
    backupRun("shop", "web-run-1", "web"),
    backupRun("shop", "web-run-2", "web"),
  ]);
  await setRunStatus(env.cp, { namespace: "shop", name: "web-run-1" }, { phase: "Succeeded", volumes: [{ pvc: "data", phase: "Succeeded", snapshotId: ids.d1 }, { pvc: "logs", phase: "Succeeded", snapshotId: ids.l1 }] });
  await setRunStatus(env.cp, { namespace: "shop", name: "web-run-2" }, { phase: "Failed", volumes: [{ pvc: "data", phase: "Succeeded", snapshotId: ids.d2 }, { pvc: "logs", phase: "Failed" }] });
  await waitFor(async () => /web-run-2\s+web\s+Partial/.test((await env.cp.kubectl(["get", "snapshots", "-n", "shop"])).stdout), { what: "both snapshots listed", timeoutMs: 30_000 });
});
after(async () => {
  await webhook?.stop();
  await env?.stop();
});

const restore = (name: string, spec: Record<string, unknown>) =>
  env.cp.kubectl(["create", "-f", "-"], { input: stringify({ apiVersion: "backup.podwarden.io/v1alpha1", kind: "RestoreRun", metadata: { name, namespace: "shop" }, spec }) });

describe("RestoreRun admission against the Snapshot API", () => {
  it("admits a restore of a Complete snapshot of the policy", async () => {
    const res = await restore("ok", { policyRef: { name: "web" }, snapshot: "web-run-1" });
    assert.equal(res.code, 0, res.stderr);
  });

  it("admits a restore of some of its volumes", async () => {
    const res = await restore("some", { policyRef: { name: "web" }, snapshot: "web-run-1", volumes: ["logs"] });
    assert.equal(res.code, 0, res.stderr);
  });

  const denied: { name: string; spec: Record<string, unknown>; message: RegExp }[] = [
    { name: "unknown", spec: { policyRef: { name: "web" }, snapshot: "web-run-9" }, message: /spec\.snapshot: Not found: "web-run-9": no Snapshot with this name in namespace shop/ },
    { name: "partial", spec: { policyRef: { name: "web" }, snapshot: "web-run-2" }, message: /spec\.snapshot: Invalid value: "web-run-2": is Partial \(missing: logs\): only a Complete snapshot can be restored/ },
    { name: "volume", spec: { policyRef: { name: "web" }, snapshot: "web-run-1", volumes: ["cache"] }, message: /spec\.volumes\[0\]: Invalid value: "cache": is not in snapshot web-run-1, which holds: data, logs/ },
    { name: "policy", spec: { policyRef: { name: "other" }, snapshot: "web-run-1" }, message: /spec\.snapshot: Invalid value: "web-run-1": belongs to BackupPolicy web, not other/ },
  ];
  for (const c of denied) {
    it(`refuses: ${c.name}`, async () => {
      const res = await restore(`r-${c.name}`, c.spec);
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /admission webhook "validate\.backup\.podwarden\.io" denied the request/);
      assert.match(res.stderr, c.message);
    });
  }
});
