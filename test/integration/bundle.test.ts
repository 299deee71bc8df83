// The servers as the image runs them: the bundles of scripts/bundle.ts against a real
// kube-apiserver. The Snapshot API's bundle lists real restic repositories (NFS, and S3 through
// the SDK chunk it loads only then) through the aggregator and kubectl, with its decode workers
// started from the bundle; the bundled decode
// worker mixes scrypt blocks as the sources do; the webhook's bundle admits and denies through
// kube-apiserver.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import type { DecodeReply, DecodeRequest } from "../../restic/decode-pool.ts";
import { blocksOf, mixClaimed, shareBlocks } from "../../restic/scrypt.ts";
import { bundledEntry } from "../../scripts/bundle.ts";
import { inheritedEnv } from "../env/config.ts";
import type { SupervisedProcess } from "../env/supervisor.ts";
import { waitFor, withLogTails } from "../env/wait.ts";
import { temporaryBundle } from "../support/bundle.ts";
import type { TemporaryBundle } from "../support/bundle.ts";
import { seedNfsPolicy } from "../support/nfs-policy.ts";
import { resticBackup, resticInit } from "../support/restic-cli.ts";
import { backupPolicy, s3Restic, s3Storage, secret, startSnapshotEnv } from "../support/snapshot-env.ts";
import type { SnapshotEnv } from "../support/snapshot-env.ts";
import { spawnWebhook } from "../support/webhook-env.ts";

const NFS = { server: "nas.local", path: "/exports/backups" } as const;
const NS = "shop";
const PASSWORD = "bundle-test-password";

let built: TemporaryBundle;
let env: SnapshotEnv;
let webhook: SupervisedProcess | undefined;

before(async () => {
  built = await temporaryBundle();
  env = await startSnapshotEnv({ entry: bundledEntry(built.dir, "apiserver"), s3: true });
  await withLogTails([env], async () => {
    await seedNfsPolicy(env, { nfs: NFS, namespace: NS, policy: "web", run: "web-run-1", repoPath: "backups/test/web-b4nd", passwordSecret: "pw-backup-b4nd", password: PASSWORD });
    const s3 = env.s3;
    assert.ok(s3, "the S3 server runs");
    await s3.createBucket("offsite");
    const db = s3Restic(s3, { bucket: "offsite", repoPath: "backups/test/db-b4nd", password: PASSWORD });
    await resticInit({ ...db, version: 2 });
    await resticBackup({ ...db, dir: join(env.dir, "volumes", "web"), tags: ["policy=db", "run=db-run-1", "pvc=pgdata"] });
    await env.apply([
      secret("podwarden-system", "offsite-s3", { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey }),
      s3Storage("offsite", { endpoint: s3.endpoint, bucket: "offsite", credentials: { namespace: "podwarden-system", name: "offsite-s3" } }),
      secret(NS, "pw-backup-db", { RESTIC_PASSWORD: PASSWORD }),
      backupPolicy({ namespace: NS, name: "db", storage: "offsite", repoPath: "backups/test/db-b4nd", passwordSecret: "pw-backup-db" }),
    ]);
  });
});
after(async () => {
  await webhook?.stop();
  await env?.stop();
  built?.remove();
});

/** The names of a process's threads (Linux). */
function threadNames(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim());
}

describe("the Snapshot API's bundle", () => {
  it("lists restic repositories on NFS and on S3 through the aggregator and kubectl", async () => {
    const names = await waitFor(
      async () => {
        const r = await env.cp.kubectl(["get", "snapshots", "-n", NS, "-o", "name", "--sort-by=.metadata.name"]);
        return r.stdout.trim().split("\n").length === 2 ? r.stdout.trim() : undefined;
      },
      { what: "kubectl get snapshots listing both backups", timeoutMs: 60_000, intervalMs: 250 },
    );
    assert.equal(names, "snapshot.snapshots.backup.podwarden.io/db-run-1\nsnapshot.snapshots.backup.podwarden.io/web-run-1");
    const table = await env.cp.kubectlOk(["get", "snapshots", "-n", NS]);
    assert.match(table, /^NAME\s+POLICY\s+STATUS\s+SIZE\s+FILES\s+AGE/);
  });

  it("serves its OpenAPI documents (a chunk loaded on first ask): kubectl explain works", async () => {
    const explained = await env.cp.kubectlOk(["explain", "snapshots.status.phase"]);
    assert.match(explained, /KIND:\s+Snapshot/);
    assert.match(explained, /Complete/);
  });

  it("starts its decode workers from the bundle: they are up after its first listing", () => {
    // The first pod ever starts them ahead of its key derivation; a worker whose module did not
    // load would have exited, and scrypt quietly fallen back to Node's.
    const workers = threadNames(env.server.pid).filter((name) => name === "WorkerThread");
    assert.ok(workers.length >= 1, `expected decode worker threads in the server, found: ${threadNames(env.server.pid).join(", ")}`);
  });

  it("its decode worker mixes scrypt blocks as the sources do", async () => {
    const params = { N: 1024, r: 8 };
    const blocks = new Uint8Array(2 * 128 * params.r).map((_, i) => (i * 7 + 3) & 0xff);
    const [inWorker, here] = [shareBlocks(blocks, params), shareBlocks(blocks, params)];
    const worker = new Worker(bundledEntry(built.dir, "apiserver", "decode-worker"));
    try {
      const mixed = await new Promise<number>((resolve, reject) => {
        worker.on("message", (reply: DecodeReply) => {
          if ("mixed" in reply) resolve(reply.mixed);
          else if ("failure" in reply) reject(new Error(reply.failure));
        });
        worker.on("error", reject);
        worker.postMessage({ kind: "romix", seq: 1, shared: inWorker } satisfies DecodeRequest);
      });
      assert.equal(mixed, 2);
      assert.equal(mixClaimed(here), 2);
      assert.deepEqual(Buffer.from(blocksOf(inWorker)), Buffer.from(blocksOf(here)));
    } finally {
      await worker.terminate();
    }
  });
});

describe("the image build's compile cache of the bundles", () => {
  it("scripts/warm-compile-cache.ts --bundle fills it for every chunk, the decode worker and both entries", () => {
    const cache = join(env.dir, "compile-cache");
    const script = fileURLToPath(new URL("../../scripts/warm-compile-cache.ts", import.meta.url));
    const done = spawnSync(process.execPath, [script, "--bundle", built.dir], { env: { ...inheritedEnv(), NODE_COMPILE_CACHE: cache }, encoding: "utf8" });
    assert.equal(done.status, 0, done.stderr);
    const files = readdirSync(join(built.dir, "apiserver")).length + readdirSync(join(built.dir, "webhook")).length;
    const entries = readdirSync(cache, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
    assert.ok(entries >= files, `expected a cache entry per bundle file (${files}), found ${entries}`);
  });
});

describe("the webhook's bundle", () => {
  it("defaults and admits a valid BackupPolicy, and denies a bad one naming the field", async () => {
    webhook = await spawnWebhook(env.cp, { dir: join(env.dir, "webhook"), entry: bundledEntry(built.dir, "webhook") });
    const good = await env.cp.kubectlOk(["create", "--dry-run=server", "-o", "json", "-f", "-"], {
      input: JSON.stringify(backupPolicy({ namespace: NS, name: "web-2", storage: "nas", repoPath: "backups/test/web-2", passwordSecret: "pw-web-2" })),
    });
    assert.equal((JSON.parse(good) as { spec: { schedule?: string } }).spec.schedule, "0 2 * * *", "defaulted by the mutating webhook");
    const bad = backupPolicy({ namespace: NS, name: "web-3", storage: "nas", repoPath: "backups/test/web-3", passwordSecret: "pw-web-3" });
    (bad["spec"] as Record<string, unknown>)["schedule"] = "0 25 * * *";
    const res = await env.cp.kubectl(["create", "--dry-run=server", "-f", "-"], { input: JSON.stringify(bad) });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /spec\.schedule: Invalid value: "0 25 \* \* \*": hour field "25" is invalid/);
  });
});
