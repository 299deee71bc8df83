/**
 * kube-scheduler against a test control plane, so Deployments' pods get a node. Loopback only,
 * no leader election, supervised like the other components (own process group, one log file).
 * @module
 */
import { mkdirSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import type { Logger } from "../../kube/log.ts";
import { defaultBinDir } from "./config.ts";
import { freePort } from "./ports.ts";
import { startProcess } from "./supervisor.ts";
import type { SupervisedProcess } from "./supervisor.ts";
import { waitFor } from "./wait.ts";

/** What the scheduler needs from a control plane (a `ControlPlane` fits). */
export interface SchedulerTarget {
  readonly dir: string;
  readonly kubeconfigPath: string;
}

export interface SchedulerOptions {
  /** Working directory for its log and self-signed serving cert (default `<cp.dir>/scheduler`). */
  readonly dir?: string;
  /** Directory holding `kube-scheduler` (default `$PW_BIN`). */
  readonly binDir?: string;
  readonly log?: Logger;
  /** Limit for the readiness wait (default 60 s). */
  readonly timeoutMs?: number;
}

export interface Scheduler {
  readonly process: Pick<SupervisedProcess, "name" | "pid" | "logPath">;
  /** `https://127.0.0.1:<port>` serving /healthz (self-signed). */
  readonly healthUrl: string;
  logTails(lines?: number): string;
  stop(): Promise<void>;
}

/** Pure: kube-scheduler's command line. */
export function schedulerArgs(i: { readonly kubeconfig: string; readonly port: number; readonly certDir: string }): string[] {
  return [
    `--kubeconfig=${i.kubeconfig}`,
    `--authentication-kubeconfig=${i.kubeconfig}`,
    `--authorization-kubeconfig=${i.kubeconfig}`,
    `--leader-elect=false`,
    `--bind-address=127.0.0.1`,
    `--secure-port=${i.port}`,
    `--cert-dir=${i.certDir}`,
    `--v=2`,
  ];
}

function healthz(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    // The scheduler's serving cert is self-signed and throwaway: only liveness is read here.
    const r = request(url, { rejectUnauthorized: false, timeout: 2000, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode === 200));
    });
    r.on("timeout", () => r.destroy());
    r.on("error", () => resolve(false));
    r.end();
  });
}

/** Starts kube-scheduler for `cp` and waits until its /healthz answers 200. */
export async function startScheduler(cp: SchedulerTarget, opts: SchedulerOptions = {}): Promise<Scheduler> {
  const dir = opts.dir ?? join(cp.dir, "scheduler");
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const proc = await startProcess({
    name: "kube-scheduler",
    command: join(opts.binDir ?? defaultBinDir(), "kube-scheduler"),
    args: schedulerArgs({ kubeconfig: cp.kubeconfigPath, port, certDir: join(dir, "certs") }),
    env: {},
    logPath: join(dir, "kube-scheduler.log"),
  });
  const healthUrl = `https://127.0.0.1:${port}/healthz`;
  try {
    await waitFor(() => healthz(healthUrl), {
      what: `kube-scheduler ${healthUrl}`,
      timeoutMs: opts.timeoutMs ?? 60_000,
      intervalMs: 200,
      abort: proc.exited.then((e) => `kube-scheduler exited (code ${e.code}, signal ${e.signal})`),
    });
  } catch (err) {
    const tail = proc.tail(40);
    await proc.stop({ graceMs: 2000 });
    throw new Error(`startScheduler: ${(err as Error).message}\n${tail}`, { cause: err });
  }
  opts.log?.info({ pid: proc.pid, port }, "kube-scheduler ready");
  return {
    process: { name: proc.name, pid: proc.pid, logPath: proc.logPath },
    healthUrl,
    logTails: (lines) => `== kube-scheduler (${proc.logPath}) ==\n${proc.tail(lines)}`,
    stop: async () => {
      await proc.stop();
    },
  };
}
