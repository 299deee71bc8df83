/**
 * The cold starts of bench/snapshots-api.ts: new server processes set up as a pod would find
 * its world (the image's compile cache, an emptyDir, the key Secret), each timed from spawn to
 * the last byte of its first complete list, interleaved with `restic snapshots` on the same
 * repository.
 * @module
 */
import { spawn } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { KEY_SECRET, SYSTEM_NAMESPACE } from "../api/group.ts";
import { freePort } from "../test/env/ports.ts";
import type { SupervisedProcess } from "../test/env/supervisor.ts";
import type { ResticCliOptions } from "../test/support/restic-cli.ts";
import { resticBin } from "../test/support/restic-cli.ts";
import { aggregatorClient, TABLE_ACCEPT } from "../test/support/snapshot-env.ts";
import type { SnapshotEnv } from "../test/support/snapshot-env.ts";

export const PASSWORD = "bench-password";
export const BASE = "/apis/snapshots.backup.podwarden.io/v1alpha1";

/** The server as the image runs it: the bundle's main.js and its compile cache. */
export interface ImageProgram {
  readonly entry: string;
  readonly compiled: string;
}

export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

/**
 * How to start a new server process, and the CA of its serving certificate. `prepare` sets the
 * scene outside the measured time (what the image or the cluster already holds when a pod
 * starts) and returns the start itself.
 */
interface Launcher {
  readonly caPem: string;
  prepare(opts: { readonly port: number; readonly name: string }): Promise<() => Promise<SupervisedProcess>>;
}

/**
 * Server processes as the image and manifests run them: the bundle's main.js (`image.entry`,
 * scripts/bundle.ts); NODE_COMPILE_CACHE filled at build time by scripts/warm-compile-cache.ts
 * and read-only, so each process gets its own fresh copy of `compiled`; SNAPSHOT_CACHE_DIR a new
 * empty directory (a new pod's emptyDir), or `snapshotCacheDir` as a restarted container whose
 * emptyDir keeps the snapshot cache and stored keys of the earlier starts.
 */
function imageLauncher(env: SnapshotEnv, image: ImageProgram, snapshotCacheDir?: string): Launcher {
  const { entry, compiled } = image;
  let n = 0;
  return {
    caPem: env.caPem,
    prepare: async ({ port, name }) => {
      const copy = `${compiled}-run-${++n}`;
      rmSync(copy, { recursive: true, force: true });
      cpSync(compiled, copy, { recursive: true });
      // As deployed, SNAPSHOT_CACHE_DIR is always set: a new pod's emptyDir starts empty.
      const emptyDir = `${compiled}-emptydir-${n}`;
      const caches = { NODE_COMPILE_CACHE: copy, SNAPSHOT_CACHE_DIR: snapshotCacheDir ?? emptyDir };
      return () => env.spawnServer({ port, name, env: caches, entry });
    },
  };
}

/** `launcher` after emptying the key Secret: the process finds no stored key and derives it (and stores it again). */
function withoutStoredKeys(env: SnapshotEnv, launcher: Launcher): Launcher {
  return {
    caPem: launcher.caPem,
    prepare: async (o) => {
      await env.cp.kubectlOk(["patch", "secret", KEY_SECRET, "-n", SYSTEM_NAMESPACE, "--type=merge", "-p", '{"data":null}']);
      return launcher.prepare(o);
    },
  };
}

/**
 * A new server process: spawn → ready → the last byte of its first complete list, in ms (the
 * client's parsing of the list is not counted). Polled every 10 ms over one
 * kept-alive connection, as the aggregator keeps its connections: a new TLS handshake per poll
 * would spend the 2 cores' time on the bench rather than on the server being measured.
 */
async function coldStart(env: SnapshotEnv, launcher: Launcher, at: { ns: string; count: number; name: string }): Promise<number> {
  const port = await freePort();
  const start = await launcher.prepare({ port, name: at.name });
  const t0 = performance.now();
  const proc = await start();
  const client = aggregatorClient({ cp: env.cp, caPem: launcher.caPem, port }, { port });
  const ready = async (): Promise<boolean> => (await client.request("/readyz").catch(() => undefined))?.status === 200;
  /** When the list's last byte arrived, if it held every row (checked after the time is taken). */
  const listed = async (): Promise<number | undefined> => {
    const res = await client.request(`${BASE}/namespaces/${at.ns}/snapshots`, { accept: TABLE_ACCEPT });
    const received = performance.now();
    const rows = res.status === 200 ? (JSON.parse(res.body.toString("utf8")) as { rows: unknown[] }).rows.length : 0;
    return rows === at.count ? received : undefined;
  };
  try {
    for (;;) {
      const done = (await ready()) ? await listed() : undefined;
      if (done !== undefined) return done - t0;
      if (!proc.running()) throw new Error(`bench: cold server exited:\n${proc.tail()}`);
      if (performance.now() - t0 > 300_000) throw new Error("bench: the cold server did not list everything within 5 minutes");
      await sleep(10);
    }
  } finally {
    client.close();
    await proc.stop();
  }
}

export function timedRestic(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(resticBin(), args, { env: { ...process.env, RESTIC_PASSWORD: PASSWORD }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    p.on("error", reject);
    p.on("close", (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`bench: restic ${args.join(" ")} exited ${code}: ${stderr}`))));
  });
}

/** The cold variants started as a pod would be. */
type PodCold = "image" | "first" | "restarted";

export interface ColdRuns {
  /** A new pod from the image: compile cache from the build, no snapshot cache, the key an earlier pod stored in the key Secret. */
  readonly image: number[];
  /** The first pod ever: as `image`, with an empty key Secret. */
  readonly first: number[];
  /** A restarted container: the image's compile cache plus the emptyDir's snapshot cache and stored keys. */
  readonly restarted: number[];
  /** No caches at all: Node strips types and compiles every module, and the key Secret is empty. */
  readonly bare: number[];
  readonly resticNoCache: number[];
  readonly resticCached: number[];
  /** Each pod-like cold start divided by the faster of the two restic runs right after it. */
  readonly ratios: Record<PodCold, number[]>;
}

/**
 * Every cold variant once per run, each followed by restic without and with its cache (their
 * order alternating), so that the machine's drift touches all alike and each cold start has
 * restic's better time of the same moment to be compared with.
 */
export async function measureCold(env: SnapshotEnv, repo: ResticCliOptions, at: { ns: string; count: number; program: ImageProgram }, runs: number): Promise<ColdRuns> {
  const { program } = at;
  const launchers = {
    first: withoutStoredKeys(env, imageLauncher(env, program)),
    image: imageLauncher(env, program),
    restarted: imageLauncher(env, program, join(env.dir, `bench-cache-${at.count}`)),
    bare: withoutStoredKeys(env, { caPem: env.caPem, prepare: async (o) => () => env.spawnServer(o) }),
  };
  const resticCache = `${repo.repo}-restic-cache`;
  const resticArgs = (cache: string[]): string[] => ["-r", repo.repo, ...cache, "snapshots", "--json", "--no-lock"];
  await coldStart(env, launchers.restarted, { ...at, name: `cold-restarted-${at.count}-prime` });
  await timedRestic(resticArgs(["--cache-dir", resticCache]));
  const out: ColdRuns = { image: [], first: [], restarted: [], bare: [], resticNoCache: [], resticCached: [], ratios: { image: [], first: [], restarted: [] } };
  let turn = 0;
  const restic = async (): Promise<number> => {
    const noCache = async (): Promise<number> => timedRestic(resticArgs(["--no-cache"])).then((t) => (out.resticNoCache.push(t), t));
    const cached = async (): Promise<number> => timedRestic(resticArgs(["--cache-dir", resticCache])).then((t) => (out.resticCached.push(t), t));
    const times = turn++ % 2 === 0 ? [await noCache(), await cached()] : [await cached(), await noCache()];
    return Math.min(...times);
  };
  for (let r = 0; r < runs; r++) {
    for (const kind of ["first", "image", "restarted", "bare"] as const) {
      const t = await coldStart(env, launchers[kind], { ...at, name: `cold-${kind}-${at.count}-${r}` });
      out[kind].push(t);
      const best = await restic();
      if (kind !== "bare") out.ratios[kind].push(t / best);
    }
  }
  return out;
}

/** The median of a list of ratios, two decimals. */
export const medianRatio = (ratios: readonly number[]): string => quantile(ratios, 0.5).toFixed(2);
