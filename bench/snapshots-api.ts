/**
 * The Snapshot API's bars (DESIGN.md §5), measured against the real server (apiserver/main.ts as
 * a child process behind a real kube-apiserver), on local repositories holding N restic
 * snapshots (one real `restic backup`, the rest sealed natively; restic must list all of them):
 *
 * - warm: the Table list request kubectl sends and the aggregator forwards, straight to the
 *   server with the front-proxy certificate, many times: first page (`limit=500`), whole list
 *   (`--chunk-size=0`), and every page of one `kubectl get snapshots`; repeated lists may be
 *   answered from a kept body (valid while no AGE cell changes), so the whole list is also
 *   measured with a label selector every row matches, which is assembled anew each time;
 * - cold: a new server process, from spawn to the first complete list it serves: a new pod from
 *   the image (the bundle of scripts/bundle.ts, Node's compile cache built with the image, an
 *   empty emptyDir, the key an earlier pod stored in the key Secret), the first pod ever (the key
 *   Secret empty too: scrypt), a restarted container (its emptyDir also keeps the snapshot cache
 *   and stored keys), and apiserver/main.ts from the sources with no caches at all (Node strips
 *   types and compiles every module); and a minimal process with the same
 *   index, restic adapter and Table code but no Kubernetes (policy, storage and password given),
 *   from spawn to the rendered Table;
 * - `restic snapshots --json --no-lock` on the same repository (no cache, and its own warm
 *   cache), both right after each cold start (bench/snapshots-cold.ts), and each pod-like cold
 *   start divided by the faster of the two;
 * - fresh: from the BackupRun status patch (Succeeded) to the new Snapshot's watch event
 *   through kube-apiserver.
 *
 *   node bench/snapshots-api.ts [--counts 1000,10000] [--iterations 500] [--runs 3] [--fresh 5]
 *
 * Prints a markdown table on stdout; progress on stderr.
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { LABELS } from "../api/group.ts";
import { bundledEntry } from "../scripts/bundle.ts";
import { temporaryBundle } from "../test/support/bundle.ts";
import { httpsRequest } from "../test/env/http.ts";
import { waitFor } from "../test/env/wait.ts";
import type { ResticCliOptions } from "../test/support/restic-cli.ts";
import { resticBackup, resticInit, resticSnapshots } from "../test/support/restic-cli.ts";
import { addSyntheticSnapshots, aggregatorClient, backupPolicy, backupRun, namespace, nfsRepoDir, nfsStorage, secret, startSnapshotEnv, TABLE_ACCEPT } from "../test/support/snapshot-env.ts";
import type { DirectClient, SnapshotEnv } from "../test/support/snapshot-env.ts";
import { BASE, measureCold, medianRatio, PASSWORD, quantile } from "./snapshots-cold.ts";
import type { ImageProgram } from "./snapshots-cold.ts";

const NFS = { server: "nas.local", path: "/exports/bench" } as const;
const MINIMAL_CHILD = fileURLToPath(new URL("./snapshots-minimal-child.ts", import.meta.url));

interface Options {
  readonly counts: number[];
  readonly iterations: number;
  readonly runs: number;
  readonly fresh: number;
}

const ms = (x: number): string => (x < 10 ? x.toFixed(1) : x.toFixed(0));

/** A repository with `count` snapshots: one real backup, the rest sealed natively; restic must list all. */
async function makeRepository(env: SnapshotEnv, count: number, policy: string): Promise<ResticCliOptions> {
  const repo: ResticCliOptions = { repo: nfsRepoDir(env, NFS, `backups/bench/${policy}`), password: PASSWORD };
  const src = join(env.dir, "bench-src", policy);
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, "data.bin"), Buffer.alloc(64 * 1024, 7));
  await resticInit({ ...repo, version: 2 });
  const templateId = await resticBackup({ ...repo, dir: src, tags: [`policy=${policy}`, `run=${policy}-00000`, "pvc=data"] });
  const start = Date.parse("2025-01-01T00:00:00Z");
  await addSyntheticSnapshots({
    repo,
    templateId,
    count: count - 1,
    tags: (i) => [`policy=${policy}`, `run=${policy}-${String(i + 1).padStart(5, "0")}`, "pvc=data"],
    time: (i) => new Date(start + (i + 1) * 3_600_000).toISOString(),
  });
  const listed = (await resticSnapshots(repo)).length;
  if (listed !== count) throw new Error(`bench: restic lists ${listed} snapshots in ${repo.repo}; expected ${count}`);
  return repo;
}

async function timeRequest(client: DirectClient, path: string): Promise<{ ms: number; body: Buffer }> {
  const t0 = performance.now();
  const res = await client.request(path, { accept: TABLE_ACCEPT });
  const t = performance.now() - t0;
  if (res.status !== 200) throw new Error(`bench: GET ${path} answered ${res.status}: ${res.body.toString("utf8").slice(0, 300)}`);
  return { ms: t, body: res.body };
}

/** Every page of one `kubectl get snapshots` (limit=500, following continue); total time. */
async function allPages(client: DirectClient, ns: string): Promise<{ ms: number; rows: number }> {
  let total = 0;
  let rows = 0;
  let token = "";
  do {
    const page = await timeRequest(client, `${BASE}/namespaces/${ns}/snapshots?limit=500${token === "" ? "" : `&continue=${encodeURIComponent(token)}`}`);
    const table = JSON.parse(page.body.toString("utf8")) as { rows: unknown[]; metadata: { continue?: string } };
    total += page.ms;
    rows += table.rows.length;
    token = table.metadata.continue ?? "";
  } while (token !== "");
  return { ms: total, rows };
}

interface Warm {
  readonly pageP50: number;
  readonly pageP99: number;
  readonly fullP50: number;
  readonly fullP99: number;
  readonly pagesP50: number;
  /** Whole list with a selector every row matches: assembled per request (no kept body), as when AGE cells change every second. */
  readonly renderedP50: number;
}

async function measureWarm(client: DirectClient, at: { ns: string; policy: string }, count: number, iterations: number): Promise<Warm> {
  const ns = at.ns;
  const first = await allPages(client, ns);
  if (first.rows !== count) throw new Error(`bench: the server lists ${first.rows} snapshots in ${ns}; expected ${count}`);
  const page: number[] = [];
  const full: number[] = [];
  const pages: number[] = [];
  for (let i = 0; i < 20; i++) await timeRequest(client, `${BASE}/namespaces/${ns}/snapshots?limit=500`);
  for (let i = 0; i < iterations; i++) page.push((await timeRequest(client, `${BASE}/namespaces/${ns}/snapshots?limit=500`)).ms);
  const fullIterations = Math.max(30, Math.floor(iterations / 5));
  for (let i = 0; i < fullIterations; i++) full.push((await timeRequest(client, `${BASE}/namespaces/${ns}/snapshots`)).ms);
  for (let i = 0; i < 30; i++) pages.push((await allPages(client, ns)).ms);
  const rendered: number[] = [];
  const selector = encodeURIComponent(`${LABELS.policy}=${at.policy}`);
  for (let i = 0; i < fullIterations; i++) rendered.push((await timeRequest(client, `${BASE}/namespaces/${ns}/snapshots?labelSelector=${selector}`)).ms);
  return { pageP50: quantile(page, 0.5), pageP99: quantile(page, 0.99), fullP50: quantile(full, 0.5), fullP99: quantile(full, 0.99), pagesP50: quantile(pages, 0.5), renderedP50: quantile(rendered, 0.5) };
}

/** What the image build does: every module's compile cache in `dir`, of the sources or of the bundle in `bundleDir`. */
function buildCompileCache(dir: string, bundleDir?: string): void {
  const args = [fileURLToPath(new URL("../scripts/warm-compile-cache.ts", import.meta.url)), ...(bundleDir === undefined ? [] : ["--bundle", bundleDir])];
  const done = spawnSync(process.execPath, args, { env: { ...process.env, NODE_COMPILE_CACHE: dir }, stdio: "inherit" });
  if (done.status !== 0) throw new Error(`bench: scripts/warm-compile-cache.ts exited ${done.status}`);
}

/** Spawn → the minimal child's line (its full Table rendered), in ms. */
function minimalCold(env: SnapshotEnv, at: { policy: string; ns: string; count: number }, compiled: string): Promise<number> {
  const { policy, ns, count } = at;
  const copy = `${compiled}-minimal`;
  rmSync(copy, { recursive: true, force: true });
  cpSync(compiled, copy, { recursive: true });
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const childEnv = { ...process.env, PW_BENCH_PASSWORD: PASSWORD, NODE_COMPILE_CACHE: copy };
    const p = spawn(process.execPath, [MINIMAL_CHILD, env.nfsRoot, policy, ns, `backups/bench/${policy}`], { env: childEnv, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (c: Buffer) => {
      out += c.toString("utf8");
      if (!out.includes("\n")) return;
      const t = performance.now() - t0;
      const report = JSON.parse(out) as { rows: number };
      if (report.rows === count) resolve(t);
      else reject(new Error(`bench: the minimal process listed ${report.rows} snapshots; expected ${count}: ${out}`));
    });
    p.on("error", reject);
  });
}

/** Resolves when a watch frame for `name` with phase Complete arrives through kube-apiserver. */
function watchFor(env: SnapshotEnv, ns: string, name: string): { seen: Promise<number>; close: () => void } {
  const cp = env.cp;
  let close = (): void => {};
  const seen = new Promise<number>((resolve, reject) => {
    const path = `${BASE}/namespaces/${ns}/snapshots?watch=true&fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`;
    const req = request(`${cp.server}${path}`, { ca: cp.caPem, cert: cp.adminClientCert.certPem, key: cp.adminClientCert.keyPem, agent: false }, (res) => {
      let buf = "";
      res.on("data", (c: Buffer) => {
        buf += c.toString("utf8");
        for (let nl = buf.indexOf("\n"); nl !== -1; nl = buf.indexOf("\n")) {
          const frame = JSON.parse(buf.slice(0, nl)) as { object?: { status?: { phase?: string } } };
          buf = buf.slice(nl + 1);
          if (frame.object?.status?.phase === "Complete") resolve(performance.now());
        }
      });
    });
    req.on("error", reject);
    req.end();
    close = () => req.destroy();
  });
  return { seen, close };
}

async function patchRunStatus(env: SnapshotEnv, ns: string, name: string, status: unknown): Promise<void> {
  const cp = env.cp;
  const res = await httpsRequest(`${cp.server}/apis/backup.podwarden.io/v1alpha1/namespaces/${ns}/backupruns/${name}/status`, { caPem: cp.caPem, certPem: cp.adminClientCert.certPem, keyPem: cp.adminClientCert.keyPem }, {
    method: "PATCH",
    body: JSON.stringify({ status }),
    headers: { "content-type": "application/merge-patch+json" },
  });
  if (res.status !== 200) throw new Error(`bench: PATCH BackupRun ${ns}/${name} status answered ${res.status}: ${res.body}`);
}

/** A run goes Running, restic backs up, then the status patch to Succeeded; ms until the watch shows it. */
async function freshSnapshot(env: SnapshotEnv, repo: ResticCliOptions, at: { ns: string; policy: string; run: string }): Promise<number> {
  await env.apply([backupRun(at.ns, at.run, at.policy)]);
  await patchRunStatus(env, at.ns, at.run, { phase: "Running", volumes: [{ pvc: "data", phase: "Running" }] });
  const w = watchFor(env, at.ns, at.run);
  try {
    const id = await resticBackup({ ...repo, dir: join(env.dir, "bench-src", at.policy), tags: [`policy=${at.policy}`, `run=${at.run}`, "pvc=data"] });
    const t0 = performance.now();
    await patchRunStatus(env, at.ns, at.run, { phase: "Succeeded", volumes: [{ pvc: "data", phase: "Succeeded", snapshotId: id }] });
    const t1 = await Promise.race([w.seen, sleep(30_000).then(() => Promise.reject(new Error(`bench: no watch event for ${at.run} within 30 s`)))]);
    return t1 - t0;
  } finally {
    w.close();
  }
}

/** The server as the image runs it (the bundle and its compile cache), and the sources' compile cache for the minimal process; built once. */
type Programs = { readonly image: ImageProgram; readonly sourceCompiled: string };

async function measureSize(env: SnapshotEnv, count: number, o: Options & { readonly programs: Programs }): Promise<string> {
  const ns = `bench-${count}`;
  const policy = `p${count}`;
  const repo = await makeRepository(env, count, policy);
  await env.apply([namespace(ns), nfsStorage("bench-nas", NFS), secret(ns, `pw-${policy}`, { RESTIC_PASSWORD: PASSWORD }), backupPolicy({ namespace: ns, name: policy, storage: "bench-nas", repoPath: `backups/bench/${policy}`, passwordSecret: `pw-${policy}` })]);
  const client = aggregatorClient(env);
  try {
    await waitFor(async () => (await allPages(client, ns)).rows === count, { what: `the server listing ${count} snapshots`, timeoutMs: 300_000, intervalMs: 200 });
    const warm = await measureWarm(client, { ns, policy }, count, o.iterations);
    const cold = await measureCold(env, repo, { ns, count, program: o.programs.image }, o.runs);
    const minimal: number[] = [];
    for (let r = 0; r < o.runs; r++) minimal.push(await minimalCold(env, { policy, ns, count }, o.programs.sourceCompiled));
    const visible: number[] = [];
    for (let r = 0; r < o.fresh; r++) visible.push(await freshSnapshot(env, repo, { ns, policy, run: `${policy}-new-${r}` }));
    await env.cp.kubectlOk(["delete", "backuppolicy", policy, "-n", ns]);
    const runs = (xs: readonly number[]): string => `${ms(quantile(xs, 0.5))} (${xs.map(ms).join(", ")})`;
    return `| ${count.toLocaleString("en-US")} | ${ms(warm.pageP50)} / ${ms(warm.pageP99)} | ${ms(warm.fullP50)} / ${ms(warm.fullP99)} | ${ms(warm.renderedP50)} | ${ms(warm.pagesP50)} | ${runs(cold.image)} | ${runs(cold.first)} | ${runs(cold.restarted)} | ${runs(cold.bare)} | ${runs(minimal)} | ${runs(cold.resticNoCache)} / ${runs(cold.resticCached)} | ${medianRatio(cold.ratios.image)} / ${medianRatio(cold.ratios.restarted)} / ${medianRatio(cold.ratios.first)} | ${ms(quantile(visible, 0.5))} / ${ms(Math.max(...visible))} |`;
  } finally {
    client.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { counts: { type: "string", default: "1000,10000" }, iterations: { type: "string", default: "500" }, runs: { type: "string", default: "3" }, fresh: { type: "string", default: "5" } },
  });
  const o: Options = { counts: values.counts.split(",").map(Number), iterations: Number(values.iterations), runs: Number(values.runs), fresh: Number(values.fresh) };
  // The server of the warm measurements runs from the bundle too, as the image runs it.
  const built = await temporaryBundle();
  const entry = bundledEntry(built.dir, "apiserver");
  const env = await startSnapshotEnv({ refreshIntervalSeconds: 3600, logLevel: "warn", entry });
  const programs: Programs = { image: { entry, compiled: join(env.dir, "image-compile-cache") }, sourceCompiled: join(env.dir, "source-compile-cache") };
  const lines: string[] = [];
  try {
    buildCompileCache(programs.image.compiled, built.dir);
    buildCompileCache(programs.sourceCompiled);
    for (const count of o.counts) {
      lines.push(await measureSize(env, count, { ...o, programs }));
      process.stderr.write(`${lines.at(-1) ?? ""}\n`);
    }
  } finally {
    built.remove();
    await env.stop();
  }
  const command = `node bench/snapshots-api.ts --counts ${o.counts.join(",")} --iterations ${o.iterations} --runs ${o.runs} --fresh ${o.fresh}`;
  process.stdout.write(
    [
      `\`${command}\` (ms; warm = Table list straight to the server as the aggregator sends it, p50 / p99)`,
      "",
      "| snapshots | warm first page (limit=500) | warm whole list (no limit) | warm whole list, re-assembled per request (selector matching all), p50 | warm all pages of one `kubectl get` (p50) | cold: new pod from the image (its bundle and compile cache, an empty emptyDir, the key Secret an earlier pod filled) → first full list, median (runs) | cold: the first pod ever (as before, the key Secret empty: scrypt) | cold: restarted container (also the emptyDir's snapshot cache and stored keys) | cold: no caches at all (the sources, no bundle: Node strips and compiles every module; the key Secret empty) | cold: minimal process (index + reader + Table from the sources, no Kubernetes; their compile cache), median (runs) | `restic snapshots --json --no-lock`: no cache / own cache, median (runs) | cold ÷ the faster of the two restic runs right after it (no cache, own cache), median: new pod / restarted container / first pod ever | new snapshot in a watch after the run's status patch: median / max |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
      ...lines,
      "",
    ].join("\n"),
  );
}

await main();
