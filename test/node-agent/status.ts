/**
 * Pod status as a kubelet writes it, from the agent's record of one pod. Pure.
 * @module
 */

export const PHASES = ["Pending", "Running", "Succeeded", "Failed"] as const;
export type Phase = (typeof PHASES)[number];

export interface Terminated {
  readonly exitCode: number;
  readonly signal?: number;
  readonly reason: string;
  readonly message?: string;
  readonly startedAt: string;
  readonly finishedAt: string;
}

export type ContainerState =
  | { readonly waiting: { readonly reason: string; readonly message?: string } }
  | { readonly running: { readonly startedAt: string } }
  | { readonly terminated: Terminated };

export interface ContainerRecord {
  readonly name: string;
  readonly image: string;
  state: ContainerState;
  lastState?: ContainerState;
  restartCount: number;
}

export interface PodRecord {
  phase: Phase;
  reason?: string;
  message?: string;
  readonly startTime: string;
  readonly init: ContainerRecord[];
  readonly main: ContainerRecord[];
}

/** Longest termination message the API keeps (bytes), as the kubelet caps it. */
export const MAX_TERMINATION_MESSAGE = 4096;
/** What FallbackToLogsOnError takes from the log: at most 80 lines and 2048 bytes. */
export const FALLBACK_LOG_LINES = 80;
export const FALLBACK_LOG_BYTES = 2048;

/** Cuts `text` to at most `max` UTF-8 bytes from the end (`fromEnd`) or the start, never splitting a character. */
export function capBytes(text: string, max: number, fromEnd = false): string {
  const buf = Buffer.from(text, "utf8");
  if (buf.length <= max) return text;
  const part = fromEnd ? buf.subarray(buf.length - max) : buf.subarray(0, max);
  return part.toString("utf8").replace(/^\uFFFD+|\uFFFD+$/g, "");
}

/** The tail of a log for FallbackToLogsOnError. */
export function logTailMessage(log: string): string {
  const lines = log.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return capBytes(lines.slice(-FALLBACK_LOG_LINES).join("\n"), FALLBACK_LOG_BYTES, true);
}

export function terminatedReason(exitCode: number): string {
  return exitCode === 0 ? "Completed" : "Error";
}

const isTerminated = (c: ContainerRecord): c is ContainerRecord & { state: { terminated: Terminated } } => "terminated" in c.state;
const isRunning = (c: ContainerRecord): boolean => "running" in c.state;

/** True when every init container has terminated with exit code 0. */
export function initialized(rec: PodRecord): boolean {
  return rec.init.every((c) => isTerminated(c) && c.state.terminated.exitCode === 0);
}

function condition(type: string, status: boolean, now: string, reason?: string) {
  return { type, status: status ? "True" : "False", lastProbeTime: null, lastTransitionTime: now, ...(reason ? { reason } : {}) };
}

function containerStatus(c: ContainerRecord, ready: boolean) {
  return {
    name: c.name,
    image: c.image,
    imageID: "",
    containerID: `pw-node-agent://${c.name}-${c.restartCount}`,
    state: c.state,
    lastState: c.lastState ?? {},
    ready,
    restartCount: c.restartCount,
    started: "running" in c.state,
  };
}

/** The `status` object for a merge patch of `pods/status` (lists are replaced whole). */
export function podStatus(rec: PodRecord, now: string): Record<string, unknown> {
  const init = initialized(rec);
  const terminal = rec.phase === "Succeeded" || rec.phase === "Failed";
  const ready = !terminal && rec.main.length > 0 && rec.main.every(isRunning);
  const notReadyReason = terminal ? "PodCompleted" : "ContainersNotReady";
  return {
    phase: rec.phase,
    reason: rec.reason ?? null,
    message: rec.message ?? null,
    hostIP: "127.0.0.1",
    hostIPs: [{ ip: "127.0.0.1" }],
    podIP: "127.0.0.1",
    podIPs: [{ ip: "127.0.0.1" }],
    startTime: rec.startTime,
    conditions: [
      condition("PodReadyToStartContainers", true, now),
      condition("Initialized", init, now, init ? undefined : "ContainersNotInitialized"),
      condition("Ready", ready, now, ready ? undefined : notReadyReason),
      condition("ContainersReady", ready, now, ready ? undefined : notReadyReason),
      condition("PodScheduled", true, now),
    ],
    initContainerStatuses: rec.init.map((c) => containerStatus(c, isTerminated(c) && c.state.terminated.exitCode === 0)),
    containerStatuses: rec.main.map((c) => containerStatus(c, ready)),
  };
}

/** The phase once every regular container has stopped for good: Succeeded only when all exited 0. */
export function finalPhase(rec: PodRecord): Phase {
  return rec.main.every((c) => isTerminated(c) && c.state.terminated.exitCode === 0) ? "Succeeded" : "Failed";
}
