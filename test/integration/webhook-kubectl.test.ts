// The admission rules, through kubectl against a real kube-apiserver: our CRDs installed and
// our webhook registered, `kubectl apply` and `kubectl apply --dry-run=server` see the
// defaults, the denials with their field-path messages, and the warnings.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import type { ControlPlane } from "../env/control-plane.ts";
import type { WebhookEnv } from "../support/webhook-env.ts";
import { startWebhookEnv } from "../support/webhook-env.ts";

let env: WebhookEnv;
let cp: ControlPlane;
before(async () => {
  env = await startWebhookEnv();
  cp = env.cp;
  await cp.kubectlOk(["create", "namespace", "team-a"]);
});
after(async () => env?.stop());

const G = "backup.podwarden.io/v1alpha1";
const storage = (name: string, s3: Record<string, unknown> = {}) => ({
  apiVersion: G,
  kind: "StorageConnection",
  metadata: { name },
  spec: { type: "s3", s3: { endpoint: "https://s3.example.com", bucket: "backups", credentialsSecretRef: { namespace: "podwarden-system", name: "s3" }, ...s3 } },
});
const policy = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: G,
  kind: "BackupPolicy",
  metadata: { name, namespace: "team-a" },
  spec: { workloadRef: { kind: "Deployment", name: "app" }, storageRef: { name: "bucket" }, ...spec },
});

const apply = (obj: object, ...flags: string[]) => cp.kubectl(["apply", "-f", "-", ...flags], { input: stringify(obj) });

describe("kubectl apply through the admission webhook", () => {
  it("creates a valid StorageConnection, and one applied together with a policy is found at once", async () => {
    const list = { apiVersion: "v1", kind: "List", items: [storage("bucket"), policy("pw-backup-first")] };
    const res = await cp.kubectl(["apply", "-f", "-"], { input: stringify(list) });
    assert.equal(res.code, 0, res.stderr);
  });

  it("denies an invalid StorageConnection with the field and what is accepted", async () => {
    const res = await apply(storage("bad", { endpoint: "s3.example.com", bucket: "Bad_Bucket" }));
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /admission webhook "validate\.backup\.podwarden\.io" denied the request: StorageConnection "bad" is invalid/);
    assert.match(res.stderr, /spec\.s3\.endpoint: Invalid value: "s3\.example\.com": must be a URL with its scheme/);
    assert.match(res.stderr, /spec\.s3\.bucket: Invalid value: "Bad_Bucket": must be a valid bucket name/);
  });

  it("shows the defaults of a valid policy in kubectl get -o yaml", async () => {
    const res = await apply(policy("pw-backup-app"));
    assert.equal(res.code, 0, res.stderr);
    const spec = JSON.parse(await cp.kubectlOk(["get", "backuppolicy", "pw-backup-app", "-n", "team-a", "-o", "jsonpath={.spec}"])) as Record<string, unknown>;
    assert.equal(spec["type"], "volume");
    assert.equal(spec["mode"], "hot");
    assert.equal(spec["schedule"], "0 2 * * *");
    assert.deepEqual(spec["retention"], { keepLast: 7, keepDaily: 7, keepWeekly: 4 });
    const repo = spec["repository"] as { path: string; passwordSecretName: string };
    assert.match(repo.path, /^backups\/test\/app-s\d{7}$/);
    assert.equal(repo.passwordSecretName, `pw-backup-${repo.path.split("-").pop()}`);
  });

  it("prints the warnings kubectl users see", async () => {
    const res = await apply(policy("pw-backup-ghost", { workloadRef: { kind: "Deployment", name: "ghost" }, schedule: "*/1 * * * *" }));
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /Warning: spec\.workloadRef: Deployment team-a\/ghost does not exist yet; runs fail until it does/);
    assert.match(res.stderr, /Warning: spec\.schedule: runs every 1 minute\(s\)/);
  });

  it("denies a bad cron naming the field, and a hook in cold mode", async () => {
    const res = await apply(policy("pw-backup-bad", { schedule: "0 25 * * *", mode: "cold", preBackupHook: { command: "sync" } }));
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /spec\.schedule: Invalid value: "0 25 \* \* \*": hour field "25" is invalid/);
    assert.match(res.stderr, /spec\.preBackupHook: Forbidden: only with spec\.mode hot/);
  });

  it("denies an unknown StorageConnection", async () => {
    const res = await apply(policy("pw-backup-lost", { storageRef: { name: "nowhere" } }));
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /spec\.storageRef\.name: Not found: "nowhere": no StorageConnection with this name/);
  });

  it("denies changing an immutable field on UPDATE", async () => {
    await apply(storage("other"));
    const res = await cp.kubectl(["patch", "backuppolicy", "pw-backup-app", "-n", "team-a", "--type=merge", "-p", '{"spec":{"storageRef":{"name":"other"}}}']);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /spec\.storageRef: Invalid value: field is immutable/);
    const repo = await cp.kubectl(["patch", "backuppolicy", "pw-backup-app", "-n", "team-a", "--type=merge", "-p", '{"spec":{"repository":{"path":"backups/x/y"}}}']);
    assert.match(repo.stderr, /spec\.repository: Invalid value: field is immutable: changing it would lose access to every existing backup/);
  });

  it("allows a mutable change on UPDATE (schedule)", async () => {
    const res = await cp.kubectl(["patch", "backuppolicy", "pw-backup-app", "-n", "team-a", "--type=merge", "-p", '{"spec":{"schedule":"0 3 * * *"}}']);
    assert.equal(res.code, 0, res.stderr);
  });

  it("--dry-run=server: denies the invalid, defaults the valid, persists nothing", async () => {
    const bad = await apply(policy("pw-backup-dry-bad", { retention: { keepLast: 0 } }), "--dry-run=server");
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec\.retention: Invalid value: .*at least one of keepLast/);
    const good = await apply(policy("pw-backup-dry"), "--dry-run=server", "-o", "json");
    assert.equal(good.code, 0, good.stderr);
    const spec = (JSON.parse(good.stdout) as { spec: Record<string, unknown> }).spec;
    assert.equal(spec["schedule"], "0 2 * * *");
    assert.ok(spec["repository"]);
    const get = await cp.kubectl(["get", "backuppolicy", "pw-backup-dry", "-n", "team-a"]);
    assert.notEqual(get.code, 0);
    assert.match(get.stderr, /NotFound|not found/);
  });

  it("denies a BackupRun for a policy that does not exist, allows one that does", async () => {
    const run = (name: string, policyName: string) => ({ apiVersion: G, kind: "BackupRun", metadata: { name, namespace: "team-a" }, spec: { policyRef: { name: policyName } } });
    const bad = await apply(run("run-bad", "nope"));
    assert.match(bad.stderr, /spec\.policyRef\.name: Not found: "nope": no BackupPolicy with this name in namespace team-a/);
    const good = await apply(run("run-now", "pw-backup-app"));
    assert.equal(good.code, 0, good.stderr);
    assert.equal(await cp.kubectlOk(["get", "backuprun", "run-now", "-n", "team-a", "-o", "jsonpath={.spec.trigger}"]), "Manual");
  });

  it("postgres policies: required fields, forbidden volume fields", async () => {
    const res = await apply(policy("pg", { type: "postgres", workloadRef: undefined, postgres: { host: "", database: "app", user: "u", passwordSecretRef: { name: "pg", key: "password" } } }));
    assert.match(res.stderr, /spec\.postgres\.host: Required value: must not be empty/);
    const ok = await apply(policy("pg", { type: "postgres", workloadRef: undefined, postgres: { host: "db", database: "app", user: "u", passwordSecretRef: { name: "pg", key: "password" } } }));
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(await cp.kubectlOk(["get", "bp", "pg", "-n", "team-a", "-o", "jsonpath={.spec.postgres.port}"]), "5432");
  });

  it("kubectl get shows the printer columns; kubectl explain teaches the fields", async () => {
    const table = await cp.kubectlOk(["get", "backuppolicies", "-n", "team-a"]);
    assert.match(table.split("\n")[0]!, /^NAME\s+TYPE\s+MODE\s+SCHEDULE\s+STORAGE\s+LAST SUCCESS\s+NEXT\s+READY\s+AGE$/);
    assert.match(table, /pw-backup-app\s+volume\s+hot\s+0 3 \* \* \*\s+bucket/);
    const sc = await cp.kubectlOk(["get", "storageconnections"]);
    assert.match(sc.split("\n")[0]!, /^NAME\s+TYPE\s+TARGET\s+READY\s+AGE$/);
    const explain = await cp.kubectlOk(["explain", "backuppolicy.spec.schedule"]);
    assert.match(explain, /Cron schedule: five fields/);
    const all = await cp.kubectlOk(["get", "podwarden", "-n", "team-a"]);
    assert.match(all, /backuppolicy\.backup\.podwarden\.io\/pw-backup-app/);
  });

  it("a RestoreRun is refused while its Snapshot cannot be checked (fail closed)", async () => {
    const restore = { apiVersion: G, kind: "RestoreRun", metadata: { name: "restore-1", namespace: "team-a" }, spec: { policyRef: { name: "pw-backup-app" }, snapshot: "pw-backup-app-1" } };
    const res = await apply(restore);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /spec\.snapshot: Invalid value: "pw-backup-app-1": cannot be checked now \(the Snapshot API answered/);
  });

  it("a status update is not sent to the webhook (it may carry anything)", async () => {
    const res = await cp.kubectl(["patch", "backuppolicy", "pw-backup-app", "-n", "team-a", "--subresource=status", "--type=merge", "-p", '{"status":{"lastRun":"x"}}']);
    assert.equal(res.code, 0, res.stderr);
  });
});
