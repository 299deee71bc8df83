import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Backend } from "../restic/backend.ts";
import { memoryBackend } from "../restic/testing.ts";
import { repoFiles, vectors } from "../restic/testdata/vectors.ts";
import { groupSnapshots } from "./grouping.ts";
import { createRepoSources, defaultBackend } from "./repo-sources.ts";
import type { PolicyLike, RepoTarget, StorageLike } from "./repo-sources.ts";
import { silentLog } from "./test-fixtures.ts";

const { v2 } = vectors.repositories;

function setup() {
  const files = repoFiles(v2);
  const policies: PolicyLike[] = [
    { metadata: { namespace: "shop", name: "db" }, spec: { storageRef: { name: "nas" }, repository: { path: "backups/c/db-x1", passwordSecretName: "pw-backup-x1" } } },
    { metadata: { namespace: "shop", name: "new" }, spec: { storageRef: { name: "nas" } } },
    { metadata: { namespace: "shop", name: "s3db" }, spec: { storageRef: { name: "bucket" }, repository: { path: "backups/c/s3db", passwordSecretName: "pw-backup-s3" } } },
  ];
  const storage = new Map<string, StorageLike>([
    ["nas", { spec: { type: "nfs", nfs: { server: "nas.local", path: "/exports/backups" } } }],
    ["bucket", { spec: { type: "s3", s3: { endpoint: "http://127.0.0.1:9", bucket: "b", prefix: "pw", credentialsSecretRef: { namespace: "podwarden-system", name: "s3" } } } }],
  ]);
  const secrets = new Map<string, Record<string, string>>([
    ["shop/pw-backup-x1", { RESTIC_PASSWORD: vectors.password }],
    ["shop/pw-backup-s3", { RESTIC_PASSWORD: "p" }],
    ["podwarden-system/s3", { AWS_ACCESS_KEY_ID: "ak" }],
  ]);
  const targets: RepoTarget[] = [];
  const sources = createRepoSources({
    listPolicies: () => policies,
    getPolicy: (ns, name) => policies.find((p) => p.metadata?.namespace === ns && p.metadata.name === name),
    getStorage: (name) => storage.get(name),
    readSecret: async (ns, name) => secrets.get(`${ns}/${name}`),
    backend: (t) => {
      targets.push(t);
      return memoryBackend(files, "memory:repo-sources-v2");
    },
    log: silentLog,
  });
  return { files, policies, storage, secrets, targets, sources };
}

test("lists a policy's repository through the restic reader and groups it", async () => {
  const { sources, targets } = setup();
  assert.deepEqual(await sources.policies(), [{ namespace: "shop", name: "db" }, { namespace: "shop", name: "s3db" }]);
  const result = await sources.list({ namespace: "shop", name: "db" });
  assert.ok(result.ok);
  assert.equal(result.repositoryId, v2.config.plain.id);
  assert.deepEqual(result.snapshots.map((s) => s.id), [v2.snapshot.id]);
  assert.deepEqual(targets, [{ type: "nfs", server: "nas.local", exportPath: "/exports/backups", path: "backups/c/db-x1" }]);
  const [snap] = groupSnapshots({ policy: { namespace: "shop", name: "db" }, repositoryId: result.repositoryId, snapshots: result.snapshots, runs: new Map() });
  assert.equal(snap?.object.metadata.name, "db-1");
  assert.equal(snap?.object.status.totals.sizeBytes, 6);
  await sources.list({ namespace: "shop", name: "db" });
  assert.equal(targets.length, 1, "the opened repository is kept between listings");
});

test("failures are typed: policy, storage, secrets, password", async (t) => {
  const { sources, secrets, storage } = setup();
  const reason = async (name: string): Promise<string> => {
    const r = await sources.list({ namespace: "shop", name });
    assert.equal(r.ok, false);
    return r.ok ? "" : `${r.error.reason}: ${r.error.message}`;
  };
  await t.test("unknown policy", async () => assert.match(await reason("nope"), /^PolicyNotFound: BackupPolicy shop\/nope/));
  await t.test("policy without repository yet", async () => assert.match(await reason("new"), /^PolicyNotFound/));
  await t.test("S3 credentials incomplete", async () => assert.match(await reason("s3db"), /^SecretNotFound: StorageConnection bucket: Secret podwarden-system\/s3 has no key AWS_SECRET_ACCESS_KEY/));
  await t.test("password Secret missing", async () => {
    secrets.delete("shop/pw-backup-x1");
    assert.match(await reason("db"), /^SecretNotFound: BackupPolicy shop\/db: Secret shop\/pw-backup-x1 does not exist/);
  });
  await t.test("wrong password", async () => {
    secrets.set("shop/pw-backup-x1", { RESTIC_PASSWORD: "not-the-password" });
    assert.match(await reason("db"), /^WrongPassword: /);
  });
  await t.test("storage gone", async () => {
    storage.delete("nas");
    assert.match(await reason("db"), /^StorageConnectionNotFound: BackupPolicy shop\/db: StorageConnection "nas"/);
  });
});

test("forget removes the snapshot file", async () => {
  const { sources, files } = setup();
  await sources.forget({ namespace: "shop", name: "db" }, v2.snapshot.id);
  assert.equal(files.has(`snapshots/${v2.snapshot.id}`), false);
  const r = await sources.list({ namespace: "shop", name: "db" });
  assert.ok(r.ok);
  assert.deepEqual(r.snapshots, []);
  await assert.rejects(sources.forget({ namespace: "shop", name: "nope" }, v2.snapshot.id), /BackupPolicy shop\/nope/);
});

test("with cacheDir, a new process lists from the reader's disk cache instead of the snapshot files", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pw-repo-sources-"));
  try {
    const files = repoFiles(v2);
    const reads: string[] = [];
    const counting = (): Backend => {
      const inner = memoryBackend(files, "memory:repo-sources-cache");
      return { ...inner, read: (path) => (reads.push(path), inner.read(path)) };
    };
    const { policies, storage, secrets } = setup();
    const make = () =>
      createRepoSources({
        listPolicies: () => policies,
        getPolicy: (ns, name) => policies.find((p) => p.metadata?.namespace === ns && p.metadata.name === name),
        getStorage: (name) => storage.get(name),
        readSecret: async (ns, name) => secrets.get(`${ns}/${name}`),
        backend: counting,
        cacheDir: dir,
        log: silentLog,
      });
    const ref = { namespace: "shop", name: "db" };
    const first = make();
    assert.ok((await first.list(ref)).ok);
    assert.ok(reads.includes(`snapshots/${v2.snapshot.id}`));
    // The snapshot cache file is written in the background, a second after the listing (the key
    // store's file at once); a shutdown flushes it.
    const written = (): boolean => readdirSync(dir).some((f) => f.endsWith(".snapshots"));
    assert.equal(written(), false, "not yet written");
    await first.flushCaches();
    assert.equal(written(), true, "written by flushCaches");
    reads.length = 0;
    const again = await make().list(ref);
    assert.ok(again.ok);
    assert.deepEqual(again.snapshots.map((s) => s.id), [v2.snapshot.id]);
    assert.deepEqual(reads.filter((p) => p.startsWith("snapshots/")), [], "no snapshot file read");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("with cacheDir, an hourly sweep removes stale cache files of repositories no longer served", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pw-repo-sources-sweep-"));
  try {
    const stale = join(dir, `${"ab".repeat(32)}.snapshots`);
    writeFileSync(stale, "x");
    const day = Date.now() / 1000 - 25 * 3600;
    utimesSync(stale, day, day);
    const { policies, storage, secrets } = setup();
    let now = Date.now();
    const sources = createRepoSources({
      listPolicies: () => policies,
      getPolicy: (ns, name) => policies.find((p) => p.metadata?.namespace === ns && p.metadata.name === name),
      getStorage: (name) => storage.get(name),
      readSecret: async (ns, name) => secrets.get(`${ns}/${name}`),
      backend: () => memoryBackend(repoFiles(v2), "memory:repo-sources-sweep"),
      cacheDir: dir,
      clock: { now: () => now },
      log: silentLog,
    });
    assert.ok((await sources.list({ namespace: "shop", name: "db" })).ok);
    await sources.policies();
    assert.ok(existsSync(stale), "not swept within the hour");
    now += 3_600_001;
    await sources.policies();
    for (let i = 0; i < 500 && existsSync(stale); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(!existsSync(stale), "the stale file is removed");
    assert.ok(readdirSync(dir).some((f) => f.endsWith(".key")), "the served repository keeps its files");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("defaultBackend: NFS under the mount root at once; S3 (and its SDK) only when asked for", async () => {
  const backend = defaultBackend(join("/mnt", "nfs"));
  const nfs = backend({ type: "nfs", server: "nas.local", exportPath: "/exports/backups", path: "backups/c/db" });
  assert.ok(!(nfs instanceof Promise));
  assert.match(nfs.describe(), /\/mnt\/nfs\/nas\.local\/exports\/backups\/backups\/c\/db$/);
  const s3 = backend({ type: "s3", endpoint: "http://127.0.0.1:9", bucket: "b", prefix: "pw", path: "backups/c/s3db", accessKeyId: "ak", secretAccessKey: "sk" });
  assert.ok(s3 instanceof Promise);
  const opened = await s3;
  assert.match(opened.describe(), /b/);
  (opened as Backend & { close?: () => void }).close?.();
});
