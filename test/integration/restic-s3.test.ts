/**
 * The native reader against a v2 repository that the real restic wrote to a real S3 server
 * (versitygw on 127.0.0.1, SigV4 checked).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ResticRepoError } from "../../restic/errors.ts";
import { openRepository } from "../../restic/repository.ts";
import { s3Backend } from "../../restic/s3.ts";
import type { S3Backend, S3BackendOptions } from "../../restic/s3.ts";
import { countingBackend } from "../../restic/testing.ts";
import { freePort } from "../env/ports.ts";
import { startS3Server } from "../env/s3.ts";
import type { S3Server } from "../env/s3.ts";
import type { ResticCliOptions } from "../support/restic-cli.ts";
import { assertSameAsRestic, resticBackup, resticInit, resticSnapshots } from "../support/restic-cli.ts";

const PASSWORD = "s3-integration-pw";
const BUCKET = "backups";
const PREFIX = "cluster-a/web-x1y2";

let work = "";
let server: S3Server | undefined;
let cli: ResticCliOptions = { repo: "", password: PASSWORD };
const backends: S3Backend[] = [];

function s3(): S3Server {
  if (server === undefined) throw new Error("S3 server did not start");
  return server;
}

/** A backend for the test repository; `patch` changes endpoint, bucket, prefix or keys. */
function backend(patch: Partial<S3BackendOptions> = {}): S3Backend {
  const srv = s3();
  const b = s3Backend({
    endpoint: srv.endpoint,
    bucket: BUCKET,
    prefix: PREFIX,
    region: srv.region,
    accessKeyId: srv.accessKeyId,
    secretAccessKey: srv.secretAccessKey,
    ...patch,
  });
  backends.push(b);
  return b;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), "pw-restic-s3-"));
  server = await startS3Server({ dir: join(work, "s3") });
  await server.createBucket(BUCKET);
  cli = { repo: server.resticRepository(BUCKET, PREFIX), password: PASSWORD, env: server.clientEnv() };
  const src = join(work, "src");
  await mkdir(src, { recursive: true });
  await writeFile(join(src, "a.txt"), "a\n");
  await resticInit({ ...cli, version: 2 });
  await resticBackup({ ...cli, dir: src, tags: ["policy=web", "run=web-1", "pvc=data"] });
  await writeFile(join(src, "b.txt"), "b\n");
  await resticBackup({ ...cli, dir: src, tags: ["policy=web", "run=web-2", "pvc=data"], host: "node-2", env: { ...cli.env, TZ: "Europe/Berlin" } });
  await resticBackup({ ...cli, dir: src, tags: ["policy=web", "run=web-3", "pvc=data"], excludes: ["*.log"] });
});

after(async () => {
  for (const b of backends) b.close();
  await server?.stop();
  if (work !== "") await rm(work, { recursive: true, force: true });
});

describe("restic repository v2 on S3", () => {
  it("lists what restic snapshots --json --no-lock prints, field by field", async () => {
    const repo = await openRepository({ backend: backend(), password: PASSWORD });
    assert.equal(repo.version, 2);
    assert.equal(repo.location, `s3:${s3().endpoint}/${BUCKET}/${PREFIX}`);
    const { snapshots, errors } = await repo.listSnapshots();
    assert.deepEqual(errors, []);
    const theirs = await resticSnapshots(cli);
    assert.equal(theirs.length, 3);
    assertSameAsRestic(snapshots, theirs);
  });

  it("a second list is one LIST and no GET", async () => {
    const b = countingBackend(backend());
    const repo = await openRepository({ backend: b, password: PASSWORD });
    await repo.listSnapshots();
    const reads = b.reads.length;
    const lists = b.lists.length;
    assert.equal((await repo.listSnapshots()).snapshots.length, 3);
    assert.deepEqual([b.reads.length - reads, b.lists.slice(lists)], [0, ["snapshots"]]);
  });

  it("forgetSnapshot deletes the object: restic no longer lists it", async () => {
    const repo = await openRepository({ backend: backend(), password: PASSWORD });
    const before = (await repo.listSnapshots()).snapshots;
    const victim = before[1]?.id ?? "";
    await repo.forgetSnapshot(victim);
    const theirs = await resticSnapshots(cli);
    assert.deepEqual(theirs.map((s) => s.id), before.filter((s) => s.id !== victim).map((s) => s.id));
    assertSameAsRestic((await repo.listSnapshots()).snapshots, theirs);
  });
});

describe("S3 failures are typed and name the repository", () => {
  const expectCode = (code: string, where: () => string) => (e: unknown) =>
    e instanceof ResticRepoError && e.code === code && e.message.includes(where());

  it("wrong secret key → AccessDenied", async () => {
    const b = backend({ secretAccessKey: "wrong-secret-key-0000000000000000000000" });
    await assert.rejects(openRepository({ backend: b, password: PASSWORD }), expectCode("AccessDenied", () => b.describe()));
  });

  it("unknown access key → AccessDenied", async () => {
    const b = backend({ accessKeyId: "PWNOSUCHKEY000000000" });
    await assert.rejects(openRepository({ backend: b, password: PASSWORD }), expectCode("AccessDenied", () => b.describe()));
  });

  it("closed port → BackendUnreachable", async () => {
    const b = backend({ endpoint: `http://127.0.0.1:${await freePort()}`, maxAttempts: 1 });
    await assert.rejects(openRepository({ backend: b, password: PASSWORD }), expectCode("BackendUnreachable", () => b.describe()));
  });

  it("a prefix with no repository → RepositoryNotFound", async () => {
    const b = backend({ prefix: "cluster-a/nothing-here" });
    await assert.rejects(openRepository({ backend: b, password: PASSWORD }), expectCode("RepositoryNotFound", () => b.describe()));
  });

  it("a bucket that does not exist → RepositoryNotFound", async () => {
    const b = backend({ bucket: "no-such-bucket" });
    await assert.rejects(openRepository({ backend: b, password: PASSWORD }), expectCode("RepositoryNotFound", () => "bucket no-such-bucket"));
  });

  it("wrong password → WrongPassword", async () => {
    await assert.rejects(openRepository({ backend: backend(), password: "nope-nope" }), expectCode("WrongPassword", () => PREFIX));
  });
});
