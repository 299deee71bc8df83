/**
 * The local sandbox's backing services: a control plane (etcd, kube-apiserver,
 * kube-controller-manager) and an S3 server, up until Ctrl-C.
 *
 *   node test/env/cli.ts up [--dir DIR] [--bucket NAME] [--no-controller-manager] [--no-s3]
 *
 * Prints one JSON document on stdout (kubeconfig path, server, S3 endpoint and credentials,
 * an `env` map for child shells, log files) and writes it to DIR/env.json, plus DIR/env.sh
 * (`export` lines; mode 0600). Progress goes to stderr. The control plane starts fresh each
 * time (DIR/control-plane is wiped); S3 data in DIR/s3 is kept. Ctrl-C (or SIGTERM) stops
 * every process.
 * @module
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { toolPathsFromEnv } from "./config.ts";
import type { ToolPaths } from "./config.ts";
import { startControlPlane } from "./control-plane.ts";
import type { ControlPlane } from "./control-plane.ts";
import { startS3Server } from "./s3.ts";
import type { S3Server } from "./s3.ts";

export interface UpOptions {
  readonly dir: string;
  readonly bucket: string;
  readonly controllerManager: boolean;
  readonly s3: boolean;
}

/** Parses `up` and its flags; throws with the accepted form on anything else. */
export function parseUpArgs(argv: readonly string[], defaultDir: string): UpOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      dir: { type: "string" },
      bucket: { type: "string", default: "backups" },
      "no-controller-manager": { type: "boolean", default: false },
      "no-s3": { type: "boolean", default: false },
    },
  });
  if (positionals.length !== 1 || positionals[0] !== "up") {
    throw new Error(`test/env/cli: command ${JSON.stringify(positionals.join(" "))} is not supported; expected "up"`);
  }
  return {
    dir: resolve(values.dir ?? defaultDir),
    bucket: values.bucket,
    controllerManager: !values["no-controller-manager"],
    s3: !values["no-s3"],
  };
}

/** The summary printed on stdout and written to env.json. */
export function summary(cp: ControlPlane, s3: S3Server | undefined, bucket: string): Record<string, unknown> {
  const env: Record<string, string> = { KUBECONFIG: cp.kubeconfigPath };
  if (s3) {
    Object.assign(env, s3.clientEnv(), { PW_S3_ENDPOINT: s3.endpoint, PW_S3_BUCKET: bucket });
  }
  return {
    kubeconfigPath: cp.kubeconfigPath,
    server: cp.server,
    timings: cp.timings,
    s3: s3 ? { endpoint: s3.endpoint, bucket, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } : null,
    env,
    processes: [
      ...cp.processes.map((p) => ({ name: p.name, pid: p.pid, log: p.logPath })),
      ...(s3 ? [{ name: "versitygw", pid: s3.pid, log: s3.logPath }] : []),
    ],
  };
}

const shellQuote = (v: string): string => `'${v.replace(/'/g, `'\\''`)}'`;

/** Starts everything `opts` asks for and writes env.json / env.sh. */
export async function up(opts: UpOptions, tools: ToolPaths): Promise<Record<string, unknown>> {
  const cpDir = join(opts.dir, "control-plane");
  rmSync(cpDir, { recursive: true, force: true });
  mkdirSync(opts.dir, { recursive: true });
  process.stderr.write(`starting control plane in ${cpDir}\n`);
  const [cp, s3] = await Promise.all([
    startControlPlane({ dir: cpDir, controllerManager: opts.controllerManager, binDir: tools.binDir, kubectl: tools.kubectl }),
    opts.s3 ? startS3Server({ dir: join(opts.dir, "s3"), binDir: tools.binDir }) : Promise.resolve(undefined),
  ]);
  if (s3) await s3.createBucket(opts.bucket);
  const result = summary(cp, s3, opts.bucket);
  const env = result.env as Record<string, string>;
  writeFileSync(join(opts.dir, "env.json"), `${JSON.stringify(result, null, 2)}\n`, { mode: 0o600 });
  const exports = Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
  writeFileSync(join(opts.dir, "env.sh"), `${exports.join("\n")}\n`, { mode: 0o600 });
  return result;
}

if (import.meta.main) {
  try {
    const opts = parseUpArgs(process.argv.slice(2), join(tmpdir(), "podwarden-sandbox"));
    const result = await up(opts, toolPathsFromEnv());
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    process.stderr.write(`ready (cold start ${String((result.timings as { total: number }).total)} s); Ctrl-C stops everything\n`);
    setInterval(() => undefined, 60_000);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.stderr.write("usage: node test/env/cli.ts up [--dir DIR] [--bucket NAME] [--no-controller-manager] [--no-s3]\n");
    process.exit(1);
  }
}
