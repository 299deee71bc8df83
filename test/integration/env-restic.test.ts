// restic backs up to the test S3 server (SigV4-checked) and to a local path, and lists the
// snapshot it made; wrong S3 credentials are refused.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { inheritedEnv } from "../env/config.ts";
import { startS3Server } from "../env/s3.ts";
import type { S3Server } from "../env/s3.ts";
import { tempDir, tools } from "../env/testing.ts";
import { withLogTails } from "../env/wait.ts";

const run = promisify(execFile);
const restic = join(tools.binDir, "restic");

interface Snapshot {
  readonly short_id: string;
  readonly paths: readonly string[];
  readonly tags?: readonly string[];
}

describe("restic against the test storage", () => {
  const dir = tempDir("restic");
  const data = join(dir.path, "data");
  let s3: S3Server;

  before(async () => {
    mkdirSync(join(data, "sub"), { recursive: true });
    writeFileSync(join(data, "a.txt"), "alpha\n");
    writeFileSync(join(data, "sub", "b.bin"), Buffer.alloc(64 * 1024, 7));
    s3 = await startS3Server({ dir: join(dir.path, "s3"), binDir: tools.binDir });
    await s3.createBucket("backups");
  });
  after(async () => {
    await s3?.stop();
    dir.remove();
  });

  const targets = [
    { name: "S3 (versitygw)", repo: () => s3.resticRepository("backups", "cluster/app-1"), env: () => s3.clientEnv() },
    { name: "a local path", repo: () => join(dir.path, "local-repo"), env: () => ({}) },
  ];
  for (const target of targets) {
    it(`backs up to ${target.name} and lists the snapshot`, async () => {
      await withLogTails([s3], async () => {
        const env = { ...inheritedEnv(), ...target.env(), RESTIC_REPOSITORY: target.repo(), RESTIC_PASSWORD: "test-password" };
        const opts = { env, cwd: data };
        await run(restic, ["init", "--no-cache"], opts);
        await run(restic, ["backup", "--no-cache", "--json", "--tag", "policy=p1", "--tag", "run=r1", "."], opts);
        const { stdout } = await run(restic, ["snapshots", "--no-cache", "--no-lock", "--json"], opts);
        const snaps = JSON.parse(stdout) as Snapshot[];
        assert.equal(snaps.length, 1);
        assert.deepEqual(snaps[0]?.tags, ["policy=p1", "run=r1"]);
        assert.deepEqual(snaps[0]?.paths, [data]);
        const ls = await run(restic, ["ls", "--no-cache", "--no-lock", snaps[0]?.short_id ?? "latest"], opts);
        assert.match(ls.stdout, /\/sub\/b\.bin$/m);
      });
    });
  }

  it("refuses wrong S3 credentials", async () => {
    const env = { ...inheritedEnv(), ...s3.clientEnv(), AWS_SECRET_ACCESS_KEY: "wrong", RESTIC_REPOSITORY: s3.resticRepository("backups", "cluster/app-1"), RESTIC_PASSWORD: "test-password" };
    await assert.rejects(run(restic, ["snapshots", "--no-cache", "--no-lock"], { env }), /Access Denied|SignatureDoesNotMatch/);
  });
});
