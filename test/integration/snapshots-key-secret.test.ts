// The key Secret (apiserver/key-secret.ts) through a real kube-apiserver: the Snapshot API
// stores each repository's unlocked key there, sealed with the repository's password; a new
// server process with an empty cache directory (a new pod) opens the repository from it without
// the key search; a damaged entry is searched again and replaced; the sweep removes entries of
// repositories nobody serves; and the server may touch no other Secret of its namespace.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { KEY_SECRET, SYSTEM_NAMESPACE } from "../../api/group.ts";
import { secretKeyStore } from "../../apiserver/key-secret.ts";
import { silentLog } from "../../apiserver/test-fixtures.ts";
import { loadKubeClient } from "../../kube/client.ts";
import type { KubeClient } from "../../kube/rest.ts";
import { freePort } from "../env/ports.ts";
import type { SupervisedProcess } from "../env/supervisor.ts";
import { waitFor, withLogTails } from "../env/wait.ts";
import { seedNfsPolicy } from "../support/nfs-policy.ts";
import { aggregatorClient, SNAPSHOT_SERVER_USER, startSnapshotEnv } from "../support/snapshot-env.ts";
import type { SnapshotEnv } from "../support/snapshot-env.ts";

const NFS = { server: "nas.local", path: "/exports/backups" } as const;
const NS = "shop";
const PASSWORD = "shop-password-3f9a";
const SECRET_PATH = `/api/v1/namespaces/${SYSTEM_NAMESPACE}/secrets/${KEY_SECRET}`;

let env: SnapshotEnv;
let admin: KubeClient;

interface SecretDoc {
  data?: Record<string, string>;
}

const keySecretData = async (): Promise<Record<string, string>> => (await admin.request<SecretDoc>("GET", SECRET_PATH)).data ?? {};

/** How the server's repositories were opened: the `key` field of its "restic repository opened" lines. */
function keySources(proc: SupervisedProcess): string[] {
  return readFileSync(proc.logPath, "utf8")
    .split("\n")
    .filter((l) => l.includes('"restic repository opened"'))
    .map((l) => (JSON.parse(l) as { key: string }).key);
}

/**
 * Runs a new server process (its own empty cache directory, debug logs) until it has listed,
 * stops it, and says how it opened its repositories.
 */
async function newPodKeySources(name: string): Promise<string[]> {
  const port = await freePort();
  const cacheDir = join(env.dir, `${name}-emptydir`);
  const proc = await env.spawnServer({ port, name, env: { SNAPSHOT_CACHE_DIR: cacheDir, LOG_LEVEL: "debug" } });
  const client = aggregatorClient(env, { port });
  try {
    await waitFor(async () => (await client.request("/readyz").catch(() => ({ status: 0 }))).status === 200, { what: `${name} ready`, timeoutMs: 60_000, intervalMs: 100 });
    return keySources(proc);
  } finally {
    client.close();
    await proc.stop();
  }
}

before(async () => {
  env = await startSnapshotEnv();
  admin = loadKubeClient(env.cp.kubeconfigPath);
  await withLogTails([env], async () => {
    await seedNfsPolicy(env, { nfs: NFS, namespace: NS, policy: "web", run: "web-run-1", repoPath: "backups/test/web-k3y5", passwordSecret: "pw-backup-k3y5", password: PASSWORD });
    await waitFor(async () => (await env.cp.kubectl(["get", "snapshots", "-n", NS, "-o", "name"])).stdout.trim() === "snapshot.snapshots.backup.podwarden.io/web-run-1", {
      what: "the snapshot listed",
      timeoutMs: 60_000,
      intervalMs: 250,
    });
  });
});
after(async () => {
  admin?.close();
  await env?.stop();
});

describe("the key Secret", () => {
  it("holds one sealed entry per repository once the server has opened it; the password is not in it", async () => {
    const data = await waitFor(async () => {
      const d = await keySecretData();
      return Object.keys(d).length > 0 ? d : undefined;
    }, { what: "an entry in the key Secret", timeoutMs: 30_000, intervalMs: 200 });
    const names = Object.keys(data);
    assert.equal(names.length, 1);
    assert.match(names[0] as string, /^[0-9a-f]{64}\.key$/);
    const sealed = Buffer.from(data[names[0] as string] as string, "base64");
    assert.ok(!sealed.includes(Buffer.from(PASSWORD)), "the password is not stored");
  });

  it("a new pod opens the repository from it, without the key search", async () => {
    assert.deepEqual(await newPodKeySources("new-pod"), ["store"]);
  });

  it("a damaged entry: the next pod searches the key again and replaces the entry", async () => {
    const [name] = Object.keys(await keySecretData());
    assert.ok(name !== undefined);
    await admin.request("PATCH", SECRET_PATH, { body: { data: { [name]: Buffer.from("damaged").toString("base64") } }, contentType: "application/merge-patch+json" });
    assert.deepEqual(await newPodKeySources("after-damage"), ["search"]);
    await waitFor(async () => Buffer.from((await keySecretData())[name] ?? "", "base64").length > 64, { what: "the entry replaced", timeoutMs: 30_000, intervalMs: 200 });
    assert.deepEqual(await newPodKeySources("after-repair"), ["store"]);
  });

  it("the sweep removes entries no served repository has used for its grace period, and nothing else", async () => {
    await admin.request("PATCH", SECRET_PATH, { body: { data: { note: Buffer.from("not ours").toString("base64") } }, contentType: "application/merge-patch+json" });
    const [served] = Object.keys(await keySecretData()).filter((n) => n.endsWith(".key"));
    assert.ok(served !== undefined);
    const gone = `${"ab".repeat(32)}.key`;
    await admin.request("PATCH", SECRET_PATH, { body: { data: { [gone]: Buffer.from("old entry").toString("base64") } }, contentType: "application/merge-patch+json" });
    const store = secretKeyStore({ client: admin, namespace: SYSTEM_NAMESPACE, name: KEY_SECRET, log: silentLog });
    const keep = new Set([served]);
    assert.deepEqual(await store.sweep?.({ keep, now: 1_000, olderThanMs: 60_000 }), [], "first seen unused: kept");
    assert.deepEqual(await store.sweep?.({ keep, now: 61_000, olderThanMs: 60_000 }), [gone]);
    assert.deepEqual(Object.keys(await keySecretData()).sort(), ["note", served].sort());
  });

  it("the server's user may read and patch the key Secret and no other Secret of the namespace", async () => {
    const can = async (verb: string, name: string): Promise<string> =>
      (await env.cp.kubectl(["auth", "can-i", verb, `secret/${name}`, "-n", SYSTEM_NAMESPACE, `--as=${SNAPSHOT_SERVER_USER}`])).stdout.trim();
    assert.equal(await can("patch", KEY_SECRET), "yes");
    assert.equal(await can("patch", "other"), "no");
    assert.equal(await can("delete", KEY_SECRET), "no");
  });
});
