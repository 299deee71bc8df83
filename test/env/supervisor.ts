/**
 * Process supervisor for the real components the tests run (etcd, kube-apiserver, S3, …).
 *
 * Every process starts in its own process group (a new session), writes stdout and stderr to
 * one log file, and is stopped by signalling the whole group, so helpers it forks die with it.
 * A process-wide registry stops everything still running when this process exits, on SIGINT
 * and SIGTERM, and — through a detached reaper that watches a pipe — even when this process is
 * SIGKILLed. No component outlives the test that started it.
 * @module
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { accessSync, closeSync, constants, mkdirSync, openSync, readFileSync } from "node:fs";
import { dirname, isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";
import { groupAlive } from "./procfs.ts";

export interface ProcessSpec {
  /** Short component name used in messages and log file names (`etcd`, `kube-apiserver`). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** File that receives stdout and stderr (appended). Its directory is created. */
  readonly logPath: string;
  /** The child's exact environment; omitted = inherit this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StopOptions {
  /** Time between SIGTERM and SIGKILL to the group (default 5000 ms). */
  readonly graceMs?: number;
}

export interface SupervisedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Resolves when the process has exited (for any reason). Never rejects. */
  readonly exited: Promise<ExitInfo>;
  running(): boolean;
  /** SIGTERM to the group, SIGKILL after the grace period; resolves once nothing is left. */
  stop(opts?: StopOptions): Promise<ExitInfo>;
  /** The last `lines` lines of the log (default 40). */
  tail(lines?: number): string;
}

const live = new Set<{ pgid: number; stop: (o?: StopOptions) => Promise<ExitInfo> }>();
let reaper: ChildProcess | undefined;
let hooksInstalled = false;

function reaperWrite(line: string): void {
  if (reaper?.stdin?.writable) reaper.stdin.write(`${line}\n`);
}

function ensureReaper(): void {
  if (reaper) return;
  const script = fileURLToPath(new URL("./reaper.ts", import.meta.url));
  reaper = spawn(process.execPath, [script], { detached: true, stdio: ["pipe", "ignore", "ignore"] });
  reaper.unref();
  (reaper.stdin as unknown as { unref?: () => void }).unref?.();
  reaper.stdin?.on("error", () => undefined);
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** Synchronous last resort on exit: SIGKILL every group still registered. */
function killAllSync(): void {
  for (const p of live) signalGroup(p.pgid, "SIGKILL");
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", killAllSync);
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
    process.once(signal, () => {
      void stopAll({ graceMs: 2000 }).finally(() => process.exit(code));
    });
  }
}

/** Stops every process this process started and has not stopped yet. */
export async function stopAll(opts?: StopOptions): Promise<void> {
  await Promise.all([...live].map((p) => p.stop(opts)));
}

/** How many supervised processes are still registered (for tests of the harness itself). */
export function liveCount(): number {
  return live.size;
}

function checkExecutable(spec: ProcessSpec): void {
  if (!isAbsolute(spec.command)) return;
  try {
    accessSync(spec.command, constants.X_OK);
  } catch {
    throw new Error(
      `${spec.name}: command ${spec.command} is missing or not executable; expected a built binary (run scripts/build-go-tools.sh, or pass the right bin directory)`,
    );
  }
}

function tailOf(logPath: string, lines: number): string {
  try {
    const text = readFileSync(logPath, "utf8");
    return text.split("\n").slice(-lines - 1).join("\n").slice(-20_000);
  } catch {
    return "(no log written)";
  }
}

function spawnChild(spec: ProcessSpec): ChildProcess {
  checkExecutable(spec);
  mkdirSync(dirname(spec.logPath), { recursive: true });
  const fd = openSync(spec.logPath, "a");
  try {
    return spawn(spec.command, [...spec.args], {
      detached: true,
      stdio: ["ignore", fd, fd],
      env: spec.env ? { ...spec.env } : undefined,
      cwd: spec.cwd,
    });
  } finally {
    closeSync(fd);
  }
}

function waitSpawned(child: ChildProcess, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once("spawn", () => resolve(child.pid ?? 0));
    child.once("error", (err) => reject(new Error(`${name}: could not start: ${err.message}`)));
  });
}

/**
 * Starts `spec` in its own process group and registers it for cleanup. Resolves once the
 * process exists; rejects (naming the component) when the command cannot be started.
 */
export async function startProcess(spec: ProcessSpec): Promise<SupervisedProcess> {
  installHooks();
  ensureReaper();
  const child = spawnChild(spec);
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  const pid = await waitSpawned(child, spec.name);
  reaperWrite(`+${pid}`);
  let done = false;
  let stopping: Promise<ExitInfo> | undefined;
  const entry = { pgid: pid, stop: (o?: StopOptions) => (stopping ??= stopGroup(o)) };
  async function stopGroup(o?: StopOptions): Promise<ExitInfo> {
    signalGroup(pid, "SIGTERM");
    const grace = o?.graceMs ?? 5000;
    const timer = new Promise<"timeout">((r) => setTimeout(r, grace, "timeout").unref());
    if ((await Promise.race([exited, timer])) === "timeout") signalGroup(pid, "SIGKILL");
    const info = await exited;
    for (let i = 0; i < 100 && groupAlive(pid); i++) {
      signalGroup(pid, "SIGKILL");
      await new Promise((r) => setTimeout(r, 20));
    }
    live.delete(entry);
    reaperWrite(`-${pid}`);
    return info;
  }
  live.add(entry);
  void exited.then(() => {
    done = true;
    if (!stopping && !groupAlive(pid)) {
      live.delete(entry);
      reaperWrite(`-${pid}`);
    }
  });
  return {
    name: spec.name,
    pid,
    logPath: spec.logPath,
    exited,
    running: () => !done,
    stop: entry.stop,
    tail: (lines = 40) => tailOf(spec.logPath, lines),
  };
}
