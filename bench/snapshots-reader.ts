/**
 * Cold snapshot listing: the native reader in a new Node process vs `restic snapshots --json
 * --no-lock`, on one local v2 repository holding N snapshots.
 *
 *   node bench/snapshots-reader.ts [--counts 1000,10000] [--runs 3] [--concurrency 16]
 *
 * The repository is made by restic (init + one real backup); the other N-1 snapshot files are
 * sealed natively with the repository's master key exactly as restic writes them, and restic
 * itself must list every one of them identically before anything is timed.
 * @module
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { isDeepStrictEqual } from "node:util";
import type { ResticSnapshot } from "../restic/snapshot.ts";
import type { ResticCliOptions } from "../test/support/restic-cli.ts";

const PASSWORD = "bench-password";

/** The parent's modules, loaded only in the parent so the timed child process loads just the reader. */
async function parentDeps() {
  const [backend, keys, repository, testing, cli] = await Promise.all([
    import("../restic/backend.ts"),
    import("../restic/keys.ts"),
    import("../restic/repository.ts"),
    import("../restic/testing.ts"),
    import("../test/support/restic-cli.ts"),
  ]);
  return { ...backend, ...keys, ...repository, ...testing, ...cli };
}
type Deps = Awaited<ReturnType<typeof parentDeps>>;
const SELF = fileURLToPath(import.meta.url);

interface ChildReport {
  readonly importMs: number;
  readonly openMs: number;
  readonly listMs: number;
  readonly warmListMs: number;
  readonly count: number;
}

/** The timed part, run in a fresh process: import, open (scrypt), cold list, one warm list. */
async function child(repoPath: string, concurrency: number): Promise<void> {
  const t0 = performance.now();
  const { openRepository: open } = await import("../restic/repository.ts");
  const { localBackend: local } = await import("../restic/backend.ts");
  const t1 = performance.now();
  const repo = await open({ backend: local(repoPath), password: process.env.PW_BENCH_PASSWORD ?? "", concurrency });
  const t2 = performance.now();
  const { snapshots, errors } = await repo.listSnapshots();
  const t3 = performance.now();
  await repo.listSnapshots();
  const t4 = performance.now();
  if (errors.length > 0) throw new Error(`bench: ${errors.length} snapshot files did not load: ${errors[0]?.message}`);
  const report: ChildReport = { importMs: t1 - t0, openMs: t2 - t1, listMs: t3 - t2, warmListMs: t4 - t3, count: snapshots.length };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** Wall time of a command from spawn to exit, plus its stdout. */
function timed(cmd: string, args: readonly string[], env: Record<string, string>): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
    const chunks: Buffer[] = [];
    p.stdout.on("data", (c: Buffer) => chunks.push(c));
    p.on("error", reject);
    p.on("close", (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`bench: ${cmd} exited with ${code}`));
      else resolve({ ms, stdout: Buffer.concat(chunks).toString("utf8") });
    });
  });
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** A restic repository with `count` snapshots: one real backup, the rest sealed natively from it. */
async function makeRepo(d: Deps, root: string, count: number): Promise<ResticCliOptions> {
  const { findMasterKey, localBackend, openRepository, resticBackup, resticInit, writeSnapshotFiles } = d;
  const cli: ResticCliOptions = { repo: join(root, `repo-${count}`), password: PASSWORD };
  const src = join(root, "src");
  await mkdir(src, { recursive: true });
  await writeFile(join(src, "file.txt"), "bench\n");
  await resticInit({ ...cli, version: 2 });
  await resticBackup({ ...cli, dir: src, tags: ["policy=bench", "run=bench-0", "pvc=data"] });
  const repo = await openRepository({ backend: localBackend(cli.repo), password: PASSWORD });
  const [template] = (await repo.listSnapshots()).snapshots;
  if (template === undefined) throw new Error("bench: the real backup left no snapshot");
  const key = await findMasterKey({ backend: localBackend(cli.repo), password: PASSWORD });
  const docs = Array.from({ length: count - 1 }, (_, i) => syntheticDoc(template, i + 1));
  await writeSnapshotFiles({ root: cli.repo, key, version: 2, docs });
  return cli;
}

/** A snapshot like the template, one minute later per index, with its own run tag. */
function syntheticDoc(template: ResticSnapshot, i: number): Record<string, unknown> {
  const { id: _id, short_id: _short, ...doc } = template;
  const time = new Date(Date.parse(template.time) + i * 60_000).toISOString().replace("Z", `${String(i % 1000).padStart(3, "0")}123Z`);
  return { ...doc, time, parent: template.id, tags: ["policy=bench", `run=bench-${i}`, "pvc=data"] };
}

/** restic must list every synthetic file, and the reader must agree with it field by field. */
async function checkAgainstRestic(d: Deps, cli: ResticCliOptions, count: number): Promise<void> {
  const { localBackend, openRepository, runRestic } = d;
  const { stdout } = await runRestic(cli, ["snapshots", "--json", "--no-lock"]);
  const theirs = JSON.parse(stdout) as unknown[];
  const repo = await openRepository({ backend: localBackend(cli.repo), password: PASSWORD });
  const ours = (await repo.listSnapshots()).snapshots;
  if (theirs.length !== count || !isDeepStrictEqual(JSON.parse(JSON.stringify(ours)), theirs)) {
    throw new Error(`bench: restic lists ${theirs.length} snapshots, the reader ${ours.length}; expected ${count} identical`);
  }
}

async function measure(d: Deps, cli: ResticCliOptions, opts: { runs: number; concurrency: number }): Promise<Record<string, number>> {
  const { resticBin } = d;
  const { runs, concurrency } = opts;
  const env = { PW_BENCH_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD };
  const native: number[] = [];
  const reports: ChildReport[] = [];
  const cliCold: number[] = [];
  const cliCached: number[] = [];
  const cacheDir = `${cli.repo}-restic-cache`;
  for (let r = 0; r < runs; r++) {
    const n = await timed(process.execPath, [SELF, "--child", cli.repo, "--concurrency", String(concurrency)], env);
    native.push(n.ms);
    reports.push(JSON.parse(n.stdout) as ChildReport);
    cliCold.push((await timed(resticBin(), ["-r", cli.repo, "--no-cache", "snapshots", "--json", "--no-lock"], env)).ms);
    cliCached.push((await timed(resticBin(), ["-r", cli.repo, "--cache-dir", cacheDir, "snapshots", "--json", "--no-lock"], env)).ms);
  }
  const pick = (f: keyof ChildReport): number => median(reports.map((x) => x[f]));
  return {
    nativeWallMs: median(native),
    nativeImportMs: pick("importMs"),
    nativeOpenMs: pick("openMs"),
    nativeColdListMs: pick("listMs"),
    nativeWarmListMs: pick("warmListMs"),
    resticNoCacheMs: median(cliCold),
    resticWarmCacheMs: median(cliCached),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: "string" },
      counts: { type: "string", default: "1000,10000" },
      runs: { type: "string", default: "3" },
      concurrency: { type: "string", default: "16" },
    },
  });
  const concurrency = Number(values.concurrency);
  if (values.child !== undefined) return child(values.child, concurrency);
  const d = await parentDeps();
  const root = await mkdtemp(join(tmpdir(), "pw-bench-snapshots-"));
  try {
    for (const count of values.counts.split(",").map(Number)) {
      const cli = await makeRepo(d, root, count);
      await checkAgainstRestic(d, cli, count);
      const result = await measure(d, cli, { runs: Number(values.runs), concurrency });
      const rounded = Object.fromEntries(Object.entries(result).map(([k, v]) => [k, Math.round(v)]));
      process.stdout.write(`${JSON.stringify({ snapshots: count, concurrency, runs: Number(values.runs), ...rounded })}\n`);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
