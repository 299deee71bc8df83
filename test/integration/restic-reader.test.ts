/**
 * The native reader against repositories made by the real restic CLI on a local path (v1 and v2).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmod, copyFile, cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localBackend } from "../../restic/backend.ts";
import { ResticRepoError } from "../../restic/errors.ts";
import { openRepository } from "../../restic/repository.ts";
import type { ResticSnapshot } from "../../restic/snapshot.ts";
import { parseTags } from "../../restic/tags.ts";
import { findMasterKey } from "../../restic/keys.ts";
import { POOL_MIN_FILES } from "../../restic/loader.ts";
import { countingBackend, writeSnapshotFiles } from "../../restic/testing.ts";
import type { ResticCliOptions } from "../support/restic-cli.ts";
import { assertSameAsRestic, resticBackup, resticBin, resticInit, resticSnapshots, runRestic } from "../support/restic-cli.ts";

const PASSWORD = "integration-pw";
const NOBODY = { uid: 65534, gid: 65534 };
const runsAsRoot = process.getuid?.() === 0;

let work = "";

async function makeSources(root: string): Promise<Record<"a" | "b", string>> {
  const a = join(root, "src", "a");
  const b = join(root, "src", "b");
  await mkdir(join(a, "sub"), { recursive: true });
  await mkdir(b, { recursive: true });
  await writeFile(join(a, "one.txt"), "one\n");
  await writeFile(join(a, "sub", "two.txt"), "two two\n");
  await writeFile(join(b, "keep.txt"), "keep\n");
  await writeFile(join(b, "skip.tmp"), "skip\n");
  // restic running as nobody must reach the sources and the repository.
  await chmod(root, 0o755);
  return { a, b };
}

/** Four snapshots: tags, a second host with excludes, a parent, an offset time, and (as root) a non-root user. */
async function makeRepo(root: string, version: 1 | 2, src: Record<"a" | "b", string>): Promise<ResticCliOptions> {
  const cli: ResticCliOptions = { repo: join(root, `repo-v${version}`), password: PASSWORD };
  await resticInit({ ...cli, version });
  await resticBackup({ ...cli, dir: src.a, tags: ["policy=web", "run=web-1", "pvc=data"] });
  const logs = await resticBackup({ ...cli, dir: src.b, tags: ["policy=web", "run=web-1", "pvc=logs"], host: "other-host", excludes: ["*.tmp"] });
  // Changing tags rewrites the snapshot under a new ID that records the first one in `original`.
  await runRestic(cli, ["tag", "--add", "retagged", logs]);
  await writeFile(join(src.a, "three.txt"), `three v${version}\n`);
  await resticBackup({ ...cli, dir: src.a, tags: ["policy=web", "run=web-2", "pvc=data", "manual"], env: { TZ: "Asia/Kolkata" } });
  if (runsAsRoot) {
    await chmodTree(cli.repo);
    // nobody cannot reach the tool cache under root's home: use a world-readable copy of the binary.
    const bin = join(root, `restic-for-nobody-v${version}`);
    await copyFile(resticBin(), bin);
    await chmod(bin, 0o755);
    const asNobody = { ...cli, bin, asUser: NOBODY, env: { TZ: "America/New_York" } };
    await resticBackup({ ...asNobody, dir: src.b, tags: ["policy=db"], time: "2030-01-02 03:04:05" });
  }
  return cli;
}

async function chmodTree(dir: string): Promise<void> {
  await chmod(dir, 0o777);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await chmodTree(p);
    else await chmod(p, 0o666);
  }
}

const repos = new Map<1 | 2, ResticCliOptions>();

before(async () => {
  work = await mkdtemp(join(tmpdir(), "pw-restic-reader-"));
  const src = await makeSources(work);
  for (const version of [1, 2] as const) repos.set(version, await makeRepo(work, version, src));
});

after(async () => {
  if (work !== "") await rm(work, { recursive: true, force: true });
});

function cliOf(version: 1 | 2): ResticCliOptions {
  const cli = repos.get(version);
  if (cli === undefined) throw new Error(`repository v${version} was not created`);
  return cli;
}

/** A private copy, for tests that damage or change the repository. */
async function copyRepo(version: 1 | 2, name: string): Promise<ResticCliOptions> {
  const cli = cliOf(version);
  const repo = join(work, name);
  await cp(cli.repo, repo, { recursive: true });
  return { ...cli, repo };
}

/** The fixtures exercise every optional field, so the field-by-field comparison covers them all. */
function assertFixturesCovered(snapshots: readonly ResticSnapshot[]): void {
  const third = snapshots[2];
  assert.ok(third?.parent !== undefined && third.time.endsWith("+05:30"), "parent and the backup host's offset");
  const retagged = snapshots.find((s) => s.original !== undefined);
  assert.ok(retagged?.excludes?.includes("*.tmp") && retagged.hostname === "other-host" && retagged.tags?.includes("retagged"));
  assert.ok(snapshots.every((s) => s.summary !== undefined && s.program_version !== undefined));
  if (runsAsRoot) assert.deepEqual([snapshots[3]?.uid, snapshots[3]?.gid, snapshots[3]?.username], [65534, 65534, "nobody"]);
  assert.deepEqual(parseTags(third.tags), { policy: "web", run: "web-2", pvc: "data", other: ["manual"] });
}

for (const version of [1, 2] as const) {
  describe(`restic repository v${version} on a local path`, () => {
    it("lists what restic snapshots --json --no-lock prints, field by field", async () => {
      const cli = cliOf(version);
      const repo = await openRepository({ backend: localBackend(cli.repo), password: PASSWORD });
      assert.equal(repo.version, version);
      const { snapshots, errors } = await repo.listSnapshots();
      assert.deepEqual(errors, []);
      const theirs = await resticSnapshots(cli);
      assert.equal(theirs.length, runsAsRoot ? 4 : 3);
      assertSameAsRestic(snapshots, theirs);
      assertFixturesCovered(snapshots);
    });

    it("a second list reads no snapshot file again", async () => {
      const backend = countingBackend(localBackend(cliOf(version).repo));
      const repo = await openRepository({ backend, password: PASSWORD });
      const first = await repo.listSnapshots();
      const readsBefore = backend.reads.length;
      assert.equal(backend.reads.filter((p) => p.startsWith("snapshots/")).length, first.snapshots.length);
      const second = await repo.listSnapshots();
      assert.deepEqual(second.snapshots, first.snapshots);
      assert.deepEqual(backend.reads.slice(readsBefore), []);
    });

    it("a corrupted snapshot file is reported and the others are returned", async () => {
      const cli = await copyRepo(version, `corrupt-v${version}`);
      const theirs = await resticSnapshots(cli);
      const victim = String(theirs[1]?.id);
      const file = join(cli.repo, "snapshots", victim);
      const bytes = await readFile(file);
      for (const at of [20, 21, 22]) bytes[at] = (bytes[at] ?? 0) ^ 0x5a;
      await chmod(file, 0o600);
      await writeFile(file, bytes);
      const repo = await openRepository({ backend: localBackend(cli.repo), password: PASSWORD });
      const { snapshots, errors } = await repo.listSnapshots();
      assert.deepEqual(errors.map((e) => [e.id, e.code]), [[victim, "CorruptFile"]]);
      assert.match(errors[0]?.message ?? "", new RegExp(`local:${cli.repo}.*snapshots/${victim}`));
      assertSameAsRestic(snapshots, theirs.filter((s) => s.id !== victim));
    });

    it("forgetSnapshot removes it: restic no longer lists it", async () => {
      const cli = await copyRepo(version, `forget-v${version}`);
      const repo = await openRepository({ backend: localBackend(cli.repo), password: PASSWORD });
      const before = (await repo.listSnapshots()).snapshots;
      const victim = before[0]?.id ?? "";
      await repo.forgetSnapshot(victim);
      const theirs = await resticSnapshots(cli);
      assert.deepEqual(theirs.map((s) => s.id), before.slice(1).map((s) => s.id));
      assertSameAsRestic((await repo.listSnapshots()).snapshots, theirs);
    });
  });
}

describe("many snapshots (decoded in worker threads)", () => {
  it("restic lists natively sealed snapshot files, and the reader agrees field by field", async () => {
    const cli = await copyRepo(2, "many-v2");
    const backend = localBackend(cli.repo);
    const key = await findMasterKey({ backend, password: PASSWORD });
    const template = (await resticSnapshots(cli))[0] ?? {};
    const { id: _id, short_id: _short, ...doc } = template;
    const docs = Array.from({ length: POOL_MIN_FILES + 20 }, (_, i) => ({
      ...doc,
      time: `2031-02-03T04:05:${String(i % 60).padStart(2, "0")}.${String(i).padStart(9, "0")}+02:00`,
      tags: ["policy=many", `run=many-${i}`, "pvc=data"],
    }));
    await writeSnapshotFiles({ root: cli.repo, key, version: 2, docs });
    const theirs = await resticSnapshots(cli);
    const { snapshots, errors } = await (await openRepository({ backend, password: PASSWORD })).listSnapshots();
    assert.deepEqual(errors, []);
    assert.equal(theirs.length, docs.length + (runsAsRoot ? 4 : 3));
    assertSameAsRestic(snapshots, theirs);
  });
});

describe("opening fails with a typed error", () => {
  it("wrong password → WrongPassword, without the password in the message", async () => {
    const cli = cliOf(2);
    await assert.rejects(openRepository({ backend: localBackend(cli.repo), password: "not-it-123" }), (e: unknown) => {
      return e instanceof ResticRepoError && e.code === "WrongPassword" && e.message.includes(cli.repo) && !e.message.includes("not-it-123");
    });
  });

  it("missing repository → RepositoryNotFound", async () => {
    const path = join(work, "no-such-repo");
    await assert.rejects(openRepository({ backend: localBackend(path), password: PASSWORD }), (e: unknown) => {
      return e instanceof ResticRepoError && e.code === "RepositoryNotFound" && e.message.includes(path);
    });
  });
});
