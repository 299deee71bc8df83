// The aggregated Snapshot API end to end: kube-apiserver's aggregator in front of the real
// apiserver/main.ts (a child process running as its own user with only its RBAC), real restic
// repositories written by the restic CLI on a local "NFS" directory and on an S3 server, and
// the real kubectl as the client.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { after, afterEach, before, describe, it } from "node:test";
import { parse } from "yaml";
import { freePort } from "../env/ports.ts";
import { waitFor, withLogTails } from "../env/wait.ts";
import type { ResticCliOptions } from "../support/restic-cli.ts";
import { resticBackup, resticInit, resticSnapshots } from "../support/restic-cli.ts";
import {
  backupPolicy,
  backupRun,
  namespace,
  nfsRepoDir,
  nfsStorage,
  s3Restic,
  s3Storage,
  secret,
  setRunStatus,
  SNAPSHOT_APISERVICE,
  startSnapshotEnv,
  streamKubectl,
} from "../support/snapshot-env.ts";
import type { RunStatusInput, SnapshotEnv } from "../support/snapshot-env.ts";

const NFS = { server: "nas.local", path: "/exports/backups" } as const;
const BUCKET = "pw-backups";
const S3_PREFIX = "cluster-a";
const QUALIFIED = "snapshots.snapshots.backup.podwarden.io";

let env: SnapshotEnv;
let web: ResticCliOptions;
let db: ResticCliOptions;
const ids: Record<string, string> = {};
let src = "";

/** Files with known sizes: data 4096 + 2048 bytes (2 files), logs 1024 bytes, pgdata 10000 bytes. */
function writeVolumes(root: string): void {
  const files: [string, string, number][] = [
    ["data", "a.bin", 4096],
    ["data", "b.bin", 2048],
    ["logs", "app.log", 1024],
    ["pgdata", "dump.bin", 10_000],
  ];
  for (const [dir, name, size] of files) {
    mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, dir, name), Buffer.alloc(size, name));
  }
}

const tags = (policy: string, run: string, pvc: string): string[] => [`policy=${policy}`, `run=${run}`, `pvc=${pvc}`];
const vol = (pvc: string, phase: RunStatusInput["volumes"][number]["phase"], snapshotId?: string) => ({ pvc, phase, ...(snapshotId ? { snapshotId } : {}) });

async function makeWebRepository(): Promise<void> {
  web = { repo: nfsRepoDir(env, NFS, "backups/test/web-abc12"), password: "web-password" };
  await resticInit({ ...web, version: 2 });
  const backup = (dir: string, t: string[] = []) => resticBackup({ ...web, dir: join(src, dir), tags: t });
  ids["r1data"] = await backup("data", tags("web", "web-run-1", "data"));
  ids["r1logs"] = await backup("logs", tags("web", "web-run-1", "logs"));
  ids["r2data"] = await backup("data", tags("web", "web-run-2", "data"));
  ids["r3data"] = await backup("data", tags("web", "web-run-3", "data"));
  ids["untagged"] = await backup("data");
}

async function makeDbRepository(): Promise<void> {
  const s3 = env.s3;
  assert.ok(s3, "the S3 server runs");
  await s3.createBucket(BUCKET);
  db = s3Restic(s3, { bucket: BUCKET, prefix: S3_PREFIX, repoPath: "backups/test/db-xyz34", password: "db-password" });
  await resticInit({ ...db, version: 2 });
  ids["db1"] = await resticBackup({ ...db, dir: join(src, "pgdata"), tags: tags("db", "db-run-1", "pgdata") });
}

async function createObjects(): Promise<void> {
  const s3 = env.s3;
  assert.ok(s3);
  await env.apply([
    namespace("shop"),
    namespace("ops"),
    nfsStorage("nas", NFS),
    secret("podwarden-system", "offsite-s3", { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey }),
    s3Storage("offsite", { endpoint: s3.endpoint, bucket: BUCKET, prefix: S3_PREFIX, credentials: { namespace: "podwarden-system", name: "offsite-s3" } }),
    secret("shop", "pw-backup-abc12", { RESTIC_PASSWORD: "web-password" }),
    secret("ops", "pw-backup-xyz34", { RESTIC_PASSWORD: "db-password" }),
    backupPolicy({ namespace: "shop", name: "web", storage: "nas", repoPath: "backups/test/web-abc12", passwordSecret: "pw-backup-abc12" }),
    backupPolicy({ namespace: "ops", name: "db", storage: "offsite", repoPath: "backups/test/db-xyz34", passwordSecret: "pw-backup-xyz34" }),
    ...["web-run-1", "web-run-2", "web-run-3"].map((r) => backupRun("shop", r, "web")),
    backupRun("ops", "db-run-1", "db"),
  ]);
  const cp = env.cp;
  await setRunStatus(cp, { namespace: "shop", name: "web-run-1" }, { phase: "Succeeded", volumes: [vol("data", "Succeeded", ids["r1data"]), vol("logs", "Succeeded", ids["r1logs"])] });
  await setRunStatus(cp, { namespace: "shop", name: "web-run-2" }, { phase: "Failed", volumes: [vol("data", "Succeeded", ids["r2data"]), vol("logs", "Failed")] });
  await setRunStatus(cp, { namespace: "shop", name: "web-run-3" }, { phase: "Running", volumes: [vol("data", "Succeeded", ids["r3data"]), vol("logs", "Running")] });
  await setRunStatus(cp, { namespace: "ops", name: "db-run-1" }, { phase: "Succeeded", volumes: [vol("pgdata", "Succeeded", ids["db1"])] });
}

/** `kubectl get` output as rows of cells (header first). */
function table(stdout: string): string[][] {
  return stdout
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/));
}

const kubectl = (args: string[], kubeconfig?: string) => env.cp.kubectl(args, kubeconfig === undefined ? {} : { kubeconfig });

/** Waits until `kubectl get snapshots <args>` prints rows that `ok` accepts (the BackupRun statuses arrive one by one). */
async function until(args: string[], ok: (rows: string[][]) => boolean, what: string): Promise<string[][]> {
  let last = "";
  try {
    return await waitFor(
      async () => {
        const r = await kubectl(["get", "snapshots", ...args]);
        last = r.stdout + r.stderr;
        const rows = table(r.stdout);
        return r.code === 0 && ok(rows) ? rows : undefined;
      },
      { what: `kubectl get snapshots ${args.join(" ")}: ${what}`, timeoutMs: 60_000, intervalMs: 250 },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last output:\n${last}`, { cause: err });
  }
}

const conditionOf = async (ns: string, policy: string, field: string): Promise<string> =>
  (await env.cp.kubectlOk(["get", "backuppolicy", policy, "-n", ns, "-o", `jsonpath={.status.conditions[?(@.type=="SnapshotsAvailable")].${field}}`])).trim();

async function untilCondition(ns: string, policy: string, reason: string): Promise<void> {
  await waitFor(async () => (await conditionOf(ns, policy, "reason")) === reason, { what: `BackupPolicy ${ns}/${policy} SnapshotsAvailable reason ${reason}`, timeoutMs: 60_000, intervalMs: 250 });
}

/** The value at `path` inside parsed YAML/JSON (undefined when any step is missing). */
function at(value: unknown, ...path: string[]): unknown {
  let cur = value;
  for (const key of path) cur = cur !== null && typeof cur === "object" ? (cur as Record<string, unknown>)[key] : undefined;
  return cur;
}

const untagged = (): string => `web-${(ids["untagged"] ?? "").slice(0, 8)}`;

before(async () => {
  env = await startSnapshotEnv({ s3: true });
  src = join(env.dir, "volumes");
  writeVolumes(src);
  await withLogTails([env], async () => {
    await makeWebRepository();
    await makeDbRepository();
    await createObjects();
  });
});
after(async () => env?.stop());
afterEach(async () => {
  const available = await kubectl(["get", "apiservice", SNAPSHOT_APISERVICE, "-o", 'jsonpath={.status.conditions[?(@.type=="Available")].status}']);
  assert.equal(available.stdout, "True", "the APIService stays Available");
  assert.equal(env.server.running(), true, "the snapshot API server is still running");
});

describe("kubectl and the aggregated Snapshot API", () => {
  it("get snapshots: columns NAME POLICY STATUS SIZE FILES AGE, Complete / Partial / InProgress from the BackupRuns", async () => {
    await withLogTails([env], async () => {
      const expected = [
        [untagged(), "web", "Complete", "6Ki", "2"],
        ["web-run-1", "web", "Complete", "7Ki", "3"],
        ["web-run-2", "web", "Partial", "6Ki", "2"],
        ["web-run-3", "web", "InProgress", "6Ki", "2"],
      ];
      const body = (rows: string[][]) => rows.slice(1).map((r) => r.slice(0, 5));
      const rows = await until(["-n", "shop"], (r) => isDeepStrictEqual(body(r), expected), "the four snapshots with their run phases");
      assert.deepEqual(rows[0], ["NAME", "POLICY", "STATUS", "SIZE", "FILES", "AGE"]);
      assert.deepEqual(body(rows), expected);
      for (const r of rows.slice(1)) assert.match(r[5] ?? "", /^\d+(s|m\d*s?)$/, "AGE is a kubectl duration");
      const wide = table(await env.cp.kubectlOk(["get", "snap", "web-run-1", "-n", "shop", "-o", "wide"]));
      assert.deepEqual(wide[0], ["NAME", "POLICY", "STATUS", "SIZE", "FILES", "AGE", "RUN", "VOLUMES"]);
      assert.deepEqual([wide[1]?.[6], wide[1]?.[7]], ["web-run-1", "data,logs"]);
    });
  });

  it("-o yaml: one object per run with each PVC's restic snapshot, as restic lists them", async () => {
    const getYaml = async (args: string[]): Promise<unknown> => parse(await env.cp.kubectlOk(["get", ...args, "-n", "shop", "-o", "yaml"])) as unknown;
    const one = await getYaml(["snapshot", "web-run-1"]);
    assert.equal(at(one, "apiVersion"), "snapshots.backup.podwarden.io/v1alpha1");
    assert.equal(at(one, "kind"), "Snapshot");
    assert.deepEqual(at(one, "metadata", "labels"), { "backup.podwarden.io/policy": "web", "backup.podwarden.io/run": "web-run-1" });
    assert.deepEqual(at(one, "spec"), { policy: "web", run: "web-run-1" });
    assert.equal(at(one, "status", "phase"), "Complete");
    assert.deepEqual(at(one, "status", "totals"), { volumes: 2, sizeBytes: 7168, files: 3, addedBytes: at(one, "status", "totals", "addedBytes") });
    const restic = await resticSnapshots(web);
    const volumes = at(one, "status", "volumes") as unknown[];
    assert.deepEqual(volumes.map((v) => [at(v, "pvc"), at(v, "resticId")]), [["data", ids["r1data"]], ["logs", ids["r1logs"]]]);
    for (const v of volumes) {
      const theirs = restic.find((s) => s["id"] === at(v, "resticId"));
      assert.equal(at(v, "time"), at(theirs, "time"));
      assert.equal(at(v, "sizeBytes"), at(theirs, "summary", "total_bytes_processed"));
      assert.equal(at(v, "files"), at(theirs, "summary", "total_files_processed"));
    }
    const partial = await getYaml(["snapshot", "web-run-2"]);
    assert.deepEqual([at(partial, "status", "phase"), at(partial, "status", "missingVolumes")], ["Partial", ["logs"]]);
    const list = await getYaml(["snapshots"]);
    assert.equal(at(list, "kind"), "List");
    const items = at(list, "items") as unknown[];
    assert.deepEqual(items.map((i) => [at(i, "kind"), at(i, "metadata", "name")]).slice(1), [["Snapshot", "web-run-1"], ["Snapshot", "web-run-2"], ["Snapshot", "web-run-3"]]);
    const again = await getYaml(["snapshot", "web-run-1"]);
    assert.equal(at(again, "metadata", "uid"), at(one, "metadata", "uid"), "the UID is stable");
  });

  it("-A lists both repositories (NFS and S3); -l selects by policy and run", async () => {
    const all = await until(["-A"], (rows) => rows.some((r) => r[1] === "db-run-1" && r[3] === "Complete") && rows.some((r) => r[1] === "web-run-1"), "both namespaces");
    assert.deepEqual(all[0], ["NAMESPACE", "NAME", "POLICY", "STATUS", "SIZE", "FILES", "AGE"]);
    assert.deepEqual(all.find((r) => r[1] === "db-run-1")?.slice(0, 6), ["ops", "db-run-1", "db", "Complete", "9.8Ki", "1"]);
    const byPolicy = table(await env.cp.kubectlOk(["get", "snapshots", "-A", "-l", "backup.podwarden.io/policy=db", "-o", "name"]));
    assert.deepEqual(byPolicy, [["snapshot.snapshots.backup.podwarden.io/db-run-1"]]);
    const byRun = table(await env.cp.kubectlOk(["get", "snapshots", "-n", "shop", "-l", "backup.podwarden.io/run in (web-run-1,web-run-3)", "-o", "name"]));
    assert.deepEqual(byRun.flat(), ["snapshot.snapshots.backup.podwarden.io/web-run-1", "snapshot.snapshots.backup.podwarden.io/web-run-3"]);
    const none = await kubectl(["get", "snapshots", "-n", "shop", "-l", "backup.podwarden.io/policy=db"]);
    assert.equal(none.code, 0);
    assert.match(none.stderr, /No resources found in shop namespace\./);
  });

  it("describe snapshot shows the object and its volumes", async () => {
    const out = await env.cp.kubectlOk(["describe", "snapshot", "web-run-2", "-n", "shop"]);
    for (const re of [/^Name:\s+web-run-2$/m, /^Namespace:\s+shop$/m, /^API Version:\s+snapshots\.backup\.podwarden\.io\/v1alpha1$/m, /^Kind:\s+Snapshot$/m, /^\s+Phase:\s+Partial$/m, /^\s+Missing Volumes:\n\s+logs$/m]) {
      assert.match(out, re);
    }
    assert.ok(out.includes(ids["r2data"] ?? "-"), "the restic ID is shown");
  });

  it("explain snapshot and a nested field", async () => {
    const top = await env.cp.kubectlOk(["explain", "snapshot"]);
    assert.match(top, /^GROUP:\s+snapshots\.backup\.podwarden\.io$/m);
    assert.match(top, /^KIND:\s+Snapshot$/m);
    assert.match(top, /^VERSION:\s+v1alpha1$/m);
    assert.match(top, /^\s+status\s+<Object>/m);
    const nested = await env.cp.kubectlOk(["explain", "snapshot.status.volumes"]);
    assert.match(nested, /^FIELD:\s+volumes\s+<\[\]Object>$/m);
    assert.match(nested, /^\s+resticId\s+<string> -required-$/m);
  });

  it("get -w sees a new snapshot appear after a restic backup and its BackupRun, and a run's phase change", async () => {
    await untilCondition("shop", "web", "Listed");
    const before = (await env.cp.kubectlOk(["get", "backuppolicy", "web", "-n", "shop", "-o", "jsonpath={.metadata.resourceVersion}"])).trim();
    const w = streamKubectl(env.cp, ["get", "snapshots", "-n", "shop", "-w"]);
    try {
      await w.waitForLine(/^web-run-1\s/);
      const id = await resticBackup({ ...web, dir: join(src, "data"), tags: tags("web", "web-run-4", "data") });
      await env.apply([backupRun("shop", "web-run-4", "web")]);
      await setRunStatus(env.cp, { namespace: "shop", name: "web-run-4" }, { phase: "Succeeded", volumes: [vol("data", "Succeeded", id)] });
      assert.match(await w.waitForLine(/^web-run-4\s+web\s+Complete\s/), /^web-run-4\s+web\s+Complete\s+6Ki\s+2\s/);
      await setRunStatus(env.cp, { namespace: "shop", name: "web-run-3" }, { phase: "Failed", volumes: [vol("data", "Succeeded", ids["r3data"]), vol("logs", "Failed")] });
      await w.waitForLine(/^web-run-3\s+web\s+Partial\s/);
    } finally {
      w.stop();
    }
    const rv = (await env.cp.kubectlOk(["get", "backuppolicy", "web", "-n", "shop", "-o", "jsonpath={.metadata.resourceVersion}"])).trim();
    assert.equal(rv, before, "re-listing an unchanged healthy repository does not rewrite the policy's condition");
  });

  it("delete snapshot forgets its restic snapshots", async () => {
    const out = await env.cp.kubectlOk(["delete", "snapshot", "web-run-2", "-n", "shop"]);
    assert.equal(out.trim(), `${QUALIFIED.replace(/^snapshots\./, "snapshot.")} "web-run-2" deleted`);
    const left = (await resticSnapshots(web)).map((s) => s["id"]);
    assert.ok(!left.includes(ids["r2data"]), "restic no longer lists the deleted run's snapshot");
    assert.ok(left.includes(ids["r1data"]) && left.includes(ids["r1logs"]), "the other runs' snapshots stay");
    const gone = await kubectl(["get", "snapshot", "web-run-2", "-n", "shop"]);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr.trim(), `Error from server (NotFound): ${QUALIFIED} "web-run-2" not found`);
  });
});

describe("authorization through the aggregator", () => {
  it("a user with no RBAC gets 403 with the Kubernetes message, like a built-in kind", async () => {
    const nobody = await env.cp.userKubeconfig({ name: "nobody" });
    const r = await kubectl(["get", "snapshots", "-n", "shop"], nobody);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      `Error from server (Forbidden): ${QUALIFIED} is forbidden: User "nobody" cannot list resource "snapshots" in API group "snapshots.backup.podwarden.io" in the namespace "shop"`,
    );
    const crd = await kubectl(["get", "backuppolicies", "-n", "shop"], nobody);
    assert.equal(crd.stderr.trim().replaceAll("backuppolicies", "snapshots").replaceAll("backup.podwarden.io", "snapshots.backup.podwarden.io"), r.stderr.trim());
    const del = await kubectl(["delete", "snapshot", "web-run-1", "-n", "shop"], nobody);
    assert.match(del.stderr, /Error from server \(Forbidden\): snapshots\.snapshots\.backup\.podwarden\.io "web-run-1" is forbidden: User "nobody" cannot (get|delete) resource "snapshots"/);
  });

  it("a Role in namespace shop lists shop, not ops, not -A", async () => {
    await env.cp.kubectlOk(["create", "role", "snapshot-reader", "-n", "shop", "--verb=get,list,watch", "--resource=snapshots.snapshots.backup.podwarden.io"]);
    await env.cp.kubectlOk(["create", "rolebinding", "snapshot-reader", "-n", "shop", "--role=snapshot-reader", "--user=alice"]);
    const alice = await env.cp.userKubeconfig({ name: "alice" });
    const shop = await kubectl(["get", "snapshots", "-n", "shop", "-o", "name"], alice);
    assert.equal(shop.code, 0, shop.stderr);
    assert.ok(shop.stdout.includes("snapshot.snapshots.backup.podwarden.io/web-run-1"));
    const ops = await kubectl(["get", "snapshots", "-n", "ops"], alice);
    assert.match(ops.stderr, /User "alice" cannot list resource "snapshots" in API group "snapshots\.backup\.podwarden\.io" in the namespace "ops"/);
    const all = await kubectl(["get", "snapshots", "-A"], alice);
    assert.match(all.stderr, /User "alice" cannot list resource "snapshots" in API group "snapshots\.backup\.podwarden\.io" at the cluster scope/);
    const del = await kubectl(["delete", "snapshot", "web-run-1", "-n", "shop"], alice);
    assert.match(del.stderr, /User "alice" cannot delete resource "snapshots"/);
  });
});

describe("degraded repositories", () => {
  it("a wrong password and an unreachable S3 endpoint: a Warning line, the other policy still lists, conditions say why", async () => {
    const s3 = env.s3;
    assert.ok(s3);
    const lockedRepo = { repo: nfsRepoDir(env, NFS, "backups/test/locked-q1w2e"), password: "the-real-password" };
    await resticInit({ ...lockedRepo, version: 2 });
    const closedPort = await freePort();
    await env.apply([
      secret("shop", "pw-backup-q1w2e", { RESTIC_PASSWORD: "not-the-password" }),
      backupPolicy({ namespace: "shop", name: "locked", storage: "nas", repoPath: "backups/test/locked-q1w2e", passwordSecret: "pw-backup-q1w2e" }),
      s3Storage("gone", { endpoint: `http://127.0.0.1:${closedPort}`, bucket: BUCKET, credentials: { namespace: "podwarden-system", name: "offsite-s3" } }),
      secret("ops", "pw-backup-o0o0o", { RESTIC_PASSWORD: "db-password" }),
      backupPolicy({ namespace: "ops", name: "offline", storage: "gone", repoPath: "backups/test/offline-o0o0o", passwordSecret: "pw-backup-o0o0o" }),
    ]);
    const shop = await waitFor(
      async () => {
        const r = await kubectl(["get", "snapshots", "-n", "shop"]);
        return r.stderr.includes("shop/locked") ? r : undefined;
      },
      { what: "a warning for shop/locked", timeoutMs: 60_000, intervalMs: 250 },
    );
    assert.match(shop.stderr, /^Warning: BackupPolicy shop\/locked: its snapshots may be missing or out of date \(WrongPassword\): restic repository .*locked-q1w2e: wrong password/m);
    assert.ok(table(shop.stdout).some((r) => r[0] === "web-run-1" && r[2] === "Complete"), "web still lists");
    const ops = await waitFor(
      async () => {
        const r = await kubectl(["get", "snapshots", "-n", "ops"]);
        return r.stderr.includes("ops/offline") ? r : undefined;
      },
      { what: "a warning for ops/offline", timeoutMs: 60_000, intervalMs: 250 },
    );
    assert.match(ops.stderr, /^Warning: BackupPolicy ops\/offline: .*\(BackendUnreachable\): restic repository s3:http:\/\/127\.0\.0\.1:\d+\/pw-backups\/backups\/test\/offline-o0o0o/m);
    assert.ok(table(ops.stdout).some((r) => r[0] === "db-run-1" && r[2] === "Complete"), "db still lists");
  });

  it("SnapshotsAvailable on each BackupPolicy: True/Listed, False/WrongPassword with the troubleshooting text, False/BackendUnreachable", async () => {
    await untilCondition("shop", "locked", "WrongPassword");
    await untilCondition("ops", "offline", "BackendUnreachable");
    await untilCondition("shop", "web", "Listed");
    await untilCondition("ops", "db", "Listed");
    assert.deepEqual([await conditionOf("shop", "locked", "status"), await conditionOf("shop", "web", "status")], ["False", "True"]);
    const message = await conditionOf("shop", "locked", "message");
    assert.match(message, /Secret pw-backup-q1w2e \(key RESTIC_PASSWORD\)/);
    assert.match(message, /Password mismatch \/ ciphertext verification failed: The repo was initialized with a different password\. Delete the policy, create a new one \(fresh repo path and password\), and run a backup\./);
    assert.match(await conditionOf("ops", "offline", "message"), /Check that the storage of StorageConnection gone is reachable/);
    const managed = JSON.parse(await env.cp.kubectlOk(["get", "backuppolicy", "locked", "-n", "shop", "-o", "json", "--show-managed-fields"])) as { metadata: { managedFields: Record<string, unknown>[] } };
    const ours = managed.metadata.managedFields.find((f) => f["manager"] === "podwarden-snapshots-api");
    assert.deepEqual([ours?.["operation"], ours?.["subresource"]], ["Apply", "status"]);
  });
});
