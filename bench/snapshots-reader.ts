/**
 * Cold snapshot listing: the native reader in a new Node process vs `restic snapshots --json
 * --no-lock`, on one local v2 repository holding N snapshots, all variants interleaved run by run.
 *
 *   node bench/snapshots-reader.ts [--counts 1000,10000] [--runs 5] [--concurrency 16] [--max-seconds 900]
 *
 * The repository is made by restic (init + one real backup); the other N-1 snapshot files are
 * sealed natively with the repository's master key exactly as restic writes them, and restic
 * itself must list every one of them identically before anything is timed. Each timed child
 * prints its listing as JSON, as restic does, and the first run's output is compared with
 * restic's. The bench stops on its own: fixed runs, a deadline for starting new ones, and a
 * timeout per child process. Prints a markdown table of medians (ms). "Node compile cache" rows run
 * the child with `module.enableCompileCache()` (what `NODE_COMPILE_CACHE` does for a deployment).
 * The timed process is snapshots-reader-child.ts.
 * @module
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual, parseArgs } from "node:util";
import type { ResticSnapshot } from "../restic/snapshot.ts";
import type { ResticCliOptions } from "../test/support/restic-cli.ts";

const PASSWORD = "bench-password";
const CHILD_TIMEOUT_MS = 120_000;

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

/** What the child (snapshots-reader-child.ts) prints after the listing. */
interface ChildReport {
  readonly importMs: number;
  readonly openMs: number;
  readonly listMs: number;
  /** From process start until the first listing resolved (before printing and the cache write). */
  readonly readyMs: number;
  readonly warmListMs: number;
  readonly count: number;
}
const CHILD = fileURLToPath(new URL("./snapshots-reader-child.ts", import.meta.url));

/** Wall time of a command from spawn to exit, plus its stdout; killed after CHILD_TIMEOUT_MS. */
function timed(cmd: string, args: readonly string[], env: Record<string, string>): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"], timeout: CHILD_TIMEOUT_MS });
    const chunks: Buffer[] = [];
    p.stdout.on("data", (c: Buffer) => chunks.push(c));
    p.on("error", reject);
    p.on("close", (code, signal) => {
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`bench: ${cmd} ${args.join(" ")} exited with ${code ?? signal}`));
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

/** restic's own listing, which every timed listing must equal. */
async function resticListing(d: Deps, cli: ResticCliOptions, count: number): Promise<unknown[]> {
  const { stdout } = await d.runRestic(cli, ["snapshots", "--json", "--no-lock"]);
  const theirs = JSON.parse(stdout) as unknown[];
  if (theirs.length !== count) throw new Error(`bench: restic lists ${theirs.length} snapshots, expected ${count}`);
  return theirs;
}

const VARIANTS = ["resticWarmCache", "resticNoCache", "oursEmptyCache", "oursWarmCache", "oursEmptyCompiled", "oursWarmCompiled"] as const;
type Variant = (typeof VARIANTS)[number];

interface Samples {
  readonly wall: Record<Variant, number[]>;
  readonly reports: Partial<Record<Variant, ChildReport[]>>;
}

interface Setup {
  readonly cli: ResticCliOptions;
  readonly dirs: { readonly restic: string; readonly ours: string; readonly scratch: string; readonly compiled: string };
  readonly concurrency: number;
  readonly theirs: unknown[];
}

function commands(s: Setup, n: number): Record<Variant, readonly string[]> {
  const child = [CHILD, s.cli.repo, "--concurrency", String(s.concurrency)];
  return {
    resticWarmCache: ["-r", s.cli.repo, "--cache-dir", s.dirs.restic, "snapshots", "--json", "--no-lock"],
    resticNoCache: ["-r", s.cli.repo, "--no-cache", "snapshots", "--json", "--no-lock"],
    oursEmptyCache: [...child, "--cache-dir", join(s.dirs.scratch, `empty-${n}`)],
    oursWarmCache: [...child, "--cache-dir", s.dirs.ours],
    oursEmptyCompiled: [...child, "--cache-dir", join(s.dirs.scratch, `empty-c-${n}`), "--compile-cache", s.dirs.compiled],
    oursWarmCompiled: [...child, "--cache-dir", s.dirs.ours, "--compile-cache", s.dirs.compiled],
  };
}

/** Runs one variant; our children's output must be restic's listing plus a report line. */
async function runVariant(d: Deps, s: Setup, v: Variant, n: number): Promise<{ ms: number; report?: ChildReport }> {
  const env = { PW_BENCH_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD };
  const args = commands(s, n)[v];
  if (v.startsWith("restic")) return timed(d.resticBin(), args, env);
  const { ms, stdout } = await timed(process.execPath, args, env);
  const [listing = "", report = ""] = stdout.trimEnd().split("\n");
  if (n === 0 && !isDeepStrictEqual(JSON.parse(listing), s.theirs)) throw new Error(`bench: ${v} output differs from restic snapshots --json`);
  return { ms, report: JSON.parse(report) as ChildReport };
}

async function measure(d: Deps, s: Setup, opts: { runs: number; deadline: number }): Promise<Samples> {
  const wall = Object.fromEntries(VARIANTS.map((v) => [v, [] as number[]])) as Record<Variant, number[]>;
  const out: Samples = { wall, reports: {} };
  // Untimed: fill restic's cache, ours, and Node's compile cache.
  await runVariant(d, s, "resticWarmCache", -1);
  await runVariant(d, s, "oursWarmCompiled", 0);
  for (let r = 0; r < opts.runs && (r === 0 || Date.now() < opts.deadline); r++) {
    for (const v of VARIANTS) {
      const { ms, report } = await runVariant(d, s, v, r);
      out.wall[v].push(ms);
      if (report !== undefined) (out.reports[v] ??= []).push(report);
    }
    await rm(s.dirs.scratch, { recursive: true, force: true });
  }
  return out;
}

function fmt(ms: number): string {
  return Math.round(ms).toLocaleString("en-US");
}

function table(results: ReadonlyMap<number, Samples>): string {
  const counts = [...results.keys()];
  const cell = (f: (s: Samples) => number): string => counts.map((c) => fmt(f(results.get(c) as Samples))).join(" | ");
  const pick = (v: Variant, k: keyof ChildReport) => (s: Samples): number => median((s.reports[v] ?? []).map((x) => x[k]));
  const wall = (v: Variant) => (s: Samples): number => median(s.wall[v]);
  const ready = "(process start → first `listSnapshots()` resolved)";
  const child = "`node bench/snapshots-reader-child.ts R";
  const head = `| variant (median ms, ${median([...results.values()].map((s) => s.wall.resticNoCache.length))} runs) | command | ${counts.map((c) => `N=${c.toLocaleString("en-US")}`).join(" | ")} |`;
  const rows = [
    ["restic, warm own cache", "`restic -r R --cache-dir C snapshots --json --no-lock`", cell(wall("resticWarmCache"))],
    ["restic, no cache", "`restic -r R --no-cache snapshots --json --no-lock`", cell(wall("resticNoCache"))],
    ["ours, new process, empty disk cache", `${child} --cache-dir <new dir>\``, cell(wall("oursEmptyCache"))],
    ["… until the listing is ready", ready, cell(pick("oursEmptyCache", "readyMs"))],
    ["ours, new process, warm disk cache", `${child} --cache-dir C\``, cell(wall("oursWarmCache"))],
    ["… until the listing is ready", ready, cell(pick("oursWarmCache", "readyMs"))],
    ["… of which importing the reader", "`import(\"restic/repository.ts\")`", cell(pick("oursWarmCache", "importMs"))],
    ["… of which opening (config, key file, scrypt)", "`openRepository()`", cell(pick("oursWarmCache", "openMs"))],
    ["… of which the first listing (disk cache)", "`listSnapshots()`", cell(pick("oursWarmCache", "listMs"))],
    ["ours, empty disk cache + Node compile cache", `${child} --cache-dir <new dir> --compile-cache K\``, cell(wall("oursEmptyCompiled"))],
    ["ours, warm disk cache + Node compile cache", `${child} --cache-dir C --compile-cache K\``, cell(wall("oursWarmCompiled"))],
    ["… until the listing is ready", ready, cell(pick("oursWarmCompiled", "readyMs"))],
    ["ours, warm in-process relist", "second `listSnapshots()` in the same process", cell(pick("oursWarmCache", "warmListMs"))],
  ];
  return [head, `|---|---|${counts.map(() => "---:").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      counts: { type: "string", default: "1000,10000" },
      runs: { type: "string", default: "5" },
      concurrency: { type: "string", default: "16" },
      "max-seconds": { type: "string", default: "900" },
    },
  });
  const concurrency = Number(values.concurrency);
  const d = await parentDeps();
  const deadline = Date.now() + Number(values["max-seconds"]) * 1000;
  const root = await mkdtemp(join(tmpdir(), "pw-bench-snapshots-"));
  const results = new Map<number, Samples>();
  const load0 = loadavg()[0] ?? 0;
  try {
    for (const count of values.counts.split(",").map(Number)) {
      const cli = await makeRepo(d, root, count);
      const theirs = await resticListing(d, cli, count);
      const dirs = { restic: join(root, `restic-cache-${count}`), ours: join(root, `our-cache-${count}`), scratch: join(root, `scratch-${count}`), compiled: join(root, "node-compile-cache") };
      results.set(count, await measure(d, { cli, dirs, concurrency, theirs }, { runs: Number(values.runs), deadline }));
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const { stdout: version } = await timed(d.resticBin(), ["version"], {});
  process.stdout.write(`${table(results)}\n\n`);
  process.stdout.write(`${availableParallelism()} cores, load average ${load0.toFixed(2)} → ${(loadavg()[0] ?? 0).toFixed(2)}, node ${process.version}, ${version.trim()}\n`);
}

await main();
