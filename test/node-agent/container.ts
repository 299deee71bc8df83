/**
 * One run of one container as a local process: its own process group (the supervisor kills
 * the whole group), stdout and stderr appended to the container's log file, the termination
 * message read back when it exits.
 * @module
 */
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync, writeFileSync } from "node:fs";
import { constants } from "node:os";
import { dirname } from "node:path";
import type { V1Container } from "@kubernetes/client-node";
import { startProcess } from "../env/supervisor.ts";
import { launchCommand, linkMounts } from "./launch.ts";
import type { Isolation, MountPoints } from "./launch.ts";
import { capBytes, logTailMessage, MAX_TERMINATION_MESSAGE, terminatedReason } from "./status.ts";
import type { Terminated } from "./status.ts";
import type { Mount } from "./volumes.ts";

export interface ContainerLaunch {
  /** `namespace/pod`, for process names. */
  readonly podKey: string;
  readonly container: V1Container;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly mounts: readonly Mount[];
  readonly logPath: string;
  /** Host file bound onto terminationMessagePath. */
  readonly terminationFile: string;
  readonly isolation: Isolation;
  readonly mountPoints: MountPoints;
  readonly now: () => Date;
}

export interface ContainerInstance {
  readonly pid: number;
  readonly startedAt: string;
  /** Resolves with the terminated state once the process group is gone. */
  readonly done: Promise<Terminated>;
  /** SIGTERM to the group, SIGKILL after `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

function readFrom(path: string, offset: number): string {
  if (!existsSync(path)) return "";
  const size = statSync(path).size;
  if (size <= offset) return "";
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    return buf.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/** The termination message: the file's content, else (FallbackToLogsOnError, failed) the log tail. */
export function terminationMessage(l: Pick<ContainerLaunch, "container" | "terminationFile" | "logPath">, exitCode: number, logOffset: number): string {
  const fromFile = capBytes(readFrom(l.terminationFile, 0), MAX_TERMINATION_MESSAGE);
  if (fromFile || exitCode === 0 || l.container.terminationMessagePolicy !== "FallbackToLogsOnError") return fromFile;
  return logTailMessage(readFrom(l.logPath, logOffset));
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): { exitCode: number; signal?: number } {
  if (code !== null) return { exitCode: code };
  const num = signal ? (constants.signals[signal] ?? 9) : 9;
  return { exitCode: 128 + num, signal: num };
}

/** Starts the container's process; rejects (ContainerConfigError or spawn error) when it cannot start. */
export async function startContainer(l: ContainerLaunch): Promise<ContainerInstance> {
  mkdirSync(dirname(l.terminationFile), { recursive: true });
  writeFileSync(l.terminationFile, "");
  mkdirSync(dirname(l.logPath), { recursive: true });
  const logOffset = existsSync(l.logPath) ? statSync(l.logPath).size : 0;
  let unlink: (() => void) | undefined;
  if (l.isolation === "unshare") l.mounts.forEach((m) => l.mountPoints.ensure(m));
  else unlink = linkMounts(l.mounts);
  const { command, args } = launchCommand(l.isolation, l.mounts, l.container.workingDir, l.argv);
  const startedAt = l.now().toISOString();
  let proc;
  try {
    proc = await startProcess({ name: `${l.podKey}/${l.container.name}`, command, args, env: l.env, logPath: l.logPath });
  } catch (err) {
    unlink?.();
    throw err;
  }
  const done = proc.exited.then(async (e): Promise<Terminated> => {
    // The container ends with its main process; whatever it left running in its group goes too.
    await proc.stop({ graceMs: 0 });
    unlink?.();
    const { exitCode, signal } = exitCodeOf(e.code, e.signal);
    const message = terminationMessage(l, exitCode, logOffset);
    return {
      exitCode,
      ...(signal !== undefined ? { signal } : {}),
      reason: terminatedReason(exitCode),
      ...(message ? { message } : {}),
      startedAt,
      finishedAt: l.now().toISOString(),
    };
  });
  return {
    pid: proc.pid,
    startedAt,
    done,
    stop: async (graceMs) => {
      await proc.stop({ graceMs });
    },
  };
}
