/**
 * A stand-in kubelet for tests: registers a Node, keeps it alive, and runs the pods selected by
 * a label selector (by default every pod carrying `backup.podwarden.io/component`) as local
 * processes — on whatever node they are bound to, binding unbound ones to its own node.
 * See README.md beside this file for what it does and does not do.
 * @module
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import type { V1Pod } from "@kubernetes/client-node";
import { LABELS } from "../../api/group.ts";
import { loadKubeConfig } from "../env/client-node.ts";
import { createLogger } from "../../kube/log.ts";
import type { Logger } from "../../kube/log.ts";
import { inheritedEnv } from "../env/config.ts";
import { createAgentApi } from "./api.ts";
import type { AgentApi, PodWatch } from "./api.ts";
import { MountPoints, probeIsolation } from "./launch.ts";
import type { Isolation } from "./launch.ts";
import { nodeConditions, nodeLease, nodeObject } from "./node.ts";
import type { NodeIdentity } from "./node.ts";
import { runPod } from "./pod-runner.ts";
import type { PodHandle, PodRunnerDeps } from "./pod-runner.ts";
import { shouldBind } from "./scheduling.ts";
import type { BindPolicy, NodeFacts } from "./scheduling.ts";
import { podDir } from "./volumes.ts";

export interface NodeAgentOptions {
  readonly kubeconfigPath: string;
  /** Data root: `pvc/<ns>/<claim>`, `nfs/<server>/<path>`, `pods/<ns>_<pod>_<uid>/` (logs, emptyDirs). */
  readonly root: string;
  /** Node name (default `pw-node-agent`). */
  readonly nodeName?: string;
  /** Extra labels on the Node. */
  readonly nodeLabels?: Readonly<Record<string, string>>;
  /** Label selector of the pods this agent runs (default `backup.podwarden.io/component`, i.e. the label exists). */
  readonly podSelector?: string;
  /**
   * Let kube-scheduler place pods on this node (default false: the Node is cordoned, so
   * workload pods go to KWOK or stay Pending instead of landing here, where nothing runs them).
   */
  readonly schedulable?: boolean;
  /** When to bind unbound selected pods to this node (default `always`). */
  readonly bind?: BindPolicy;
  /** Environment every container starts from (default: this process's PATH only). */
  readonly baseEnv?: Readonly<Record<string, string>>;
  /** `auto` (default) probes for `unshare`; see launch.ts. */
  readonly isolation?: Isolation | "auto";
  readonly leaseDurationSeconds?: number;
  /** Lease renewal period (default 10 s). */
  readonly renewIntervalMs?: number;
  /** Node status heartbeat period (default 30 s). */
  readonly statusIntervalMs?: number;
  /** Upper bound on a pod's terminationGracePeriodSeconds (default 5 s). */
  readonly maxGraceMs?: number;
  readonly log?: Logger;
  readonly now?: () => Date;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface NodeAgent {
  readonly nodeName: string;
  readonly root: string;
  readonly isolation: Isolation;
  /** Directory holding a pod's `logs/<container>.log`. */
  podDir(pod: V1Pod): string;
  /** UIDs of pods whose containers are running now. */
  activePods(): string[];
  /** Tails of the container logs of the pods this agent ran (for failure reports). */
  logTails(lines?: number): string;
  stop(opts?: { readonly deleteNode?: boolean }): Promise<void>;
}

const abortableSleep = async (ms: number, signal: AbortSignal): Promise<void> => {
  await delay(ms, undefined, { signal }).catch(() => undefined);
};

interface State {
  readonly api: AgentApi;
  readonly id: NodeIdentity;
  readonly opts: NodeAgentOptions;
  readonly deps: PodRunnerDeps;
  readonly log: Logger;
  readonly runners: Map<string, { handle: PodHandle; done: boolean }>;
  readonly terminating: Set<string>;
  readonly stopped: AbortController;
  readonly nodeFacts: NodeFacts;
}

function graceMs(s: State, pod: V1Pod): number {
  return Math.min((pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000, s.opts.maxGraceMs ?? 5000);
}

async function terminate(s: State, pod: V1Pod): Promise<void> {
  const { uid = "", namespace = "default", name = "" } = pod.metadata ?? {};
  if (s.terminating.has(uid)) return;
  s.terminating.add(uid);
  await s.runners.get(uid)?.handle.stop(graceMs(s, pod));
  await s.api.deletePodNow(namespace, name, uid);
  s.log.info({ pod: `${namespace}/${name}` }, "pod terminated and deleted");
}

function onBoundPod(s: State, pod: V1Pod): void {
  const { uid = "", namespace = "default", name = "" } = pod.metadata ?? {};
  const phase = pod.status?.phase;
  if (s.runners.has(uid) || phase === "Succeeded" || phase === "Failed") return;
  s.log.info({ pod: `${namespace}/${name}`, node: pod.spec?.nodeName }, "running pod");
  const entry = { handle: runPod(pod, s.deps), done: false };
  s.runners.set(uid, entry);
  void entry.handle.finished.then(() => (entry.done = true));
}

const podKey = (pod: V1Pod): string => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

type PodEvent = "gone" | "terminating" | "bound" | "unbound";

function classify(type: "add" | "update" | "delete", pod: V1Pod): PodEvent {
  if (type === "delete") return "gone";
  if (pod.metadata?.deletionTimestamp) return "terminating";
  return pod.spec?.nodeName ? "bound" : "unbound";
}

function forget(s: State, pod: V1Pod): void {
  const uid = pod.metadata?.uid ?? "";
  void s.runners.get(uid)?.handle.stop(0);
  s.runners.delete(uid);
  s.terminating.delete(uid);
}

function bindIfFitting(s: State, pod: V1Pod, fail: (what: string) => (err: unknown) => void): void {
  if (!shouldBind(pod, s.nodeFacts, s.opts.bind ?? "always")) return;
  const { namespace = "default", name = "" } = pod.metadata ?? {};
  s.api.bindPod(namespace, name, s.id.name).catch(fail("pod binding failed (another binder may have won)"));
}

function onPod(s: State, type: "add" | "update" | "delete", pod: V1Pod): void {
  if (s.stopped.signal.aborted) return;
  const fail = (what: string) => (err: unknown) => s.log.warn({ pod: podKey(pod), err: String(err) }, what);
  const handlers: Record<PodEvent, () => void> = {
    gone: () => forget(s, pod),
    terminating: () => void terminate(s, pod).catch(fail("pod termination failed")),
    bound: () => onBoundPod(s, pod),
    unbound: () => bindIfFitting(s, pod, fail),
  };
  handlers[classify(type, pod)]();
}

async function heartbeats(s: State): Promise<void> {
  const every = s.opts.renewIntervalMs ?? 10_000;
  const statusEvery = s.opts.statusIntervalMs ?? 30_000;
  let lastStatus = Date.now();
  const now = s.opts.now ?? (() => new Date());
  while (!s.stopped.signal.aborted) {
    await s.deps.sleep(every, s.stopped.signal);
    if (s.stopped.signal.aborted) return;
    try {
      await s.api.renewLease(nodeLease(s.id, undefined, now()));
      if (Date.now() - lastStatus >= statusEvery) {
        await s.api.patchNodeStatus(s.id.name, { conditions: nodeConditions(now().toISOString()) });
        lastStatus = Date.now();
      }
    } catch (err) {
      s.log.warn({ node: s.id.name, err: String(err) }, "node heartbeat failed");
    }
  }
}

function tailsOf(root: string, lines: number): string {
  const pods = join(root, "pods");
  if (!existsSync(pods)) return "(node agent ran no pods)";
  const out: string[] = [];
  for (const p of readdirSync(pods)) {
    const logs = join(pods, p, "logs");
    if (!existsSync(logs)) continue;
    for (const f of readdirSync(logs)) out.push(`== pod ${p} container ${f} ==\n${tailFile(join(logs, f), lines)}`);
  }
  return out.join("\n");
}

function tailFile(path: string, lines: number): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-lines - 1).join("\n");
  } catch {
    return "(unreadable)";
  }
}

function runnerDeps(opts: NodeAgentOptions, api: AgentApi, log: Logger): PodRunnerDeps {
  const isolation = !opts.isolation || opts.isolation === "auto" ? probeIsolation() : opts.isolation;
  return {
    sources: api.sources,
    writeStatus: api.patchPodStatus,
    root: opts.root,
    baseEnv: opts.baseEnv ?? { PATH: inheritedEnv().PATH ?? "/usr/local/bin:/usr/bin:/bin" },
    isolation,
    mountPoints: new MountPoints(),
    log,
    now: opts.now ?? (() => new Date()),
    sleep: opts.sleep ?? abortableSleep,
  };
}

/** Registers the node, starts heartbeats and the pod watch; resolves once the first pod list is in. */
export async function startNodeAgent(opts: NodeAgentOptions): Promise<NodeAgent> {
  const log = opts.log ?? createLogger({ name: "node-agent", level: "warn" });
  const api = createAgentApi(loadKubeConfig(opts.kubeconfigPath));
  const id: NodeIdentity = { name: opts.nodeName ?? "pw-node-agent", labels: opts.nodeLabels ?? {}, leaseDurationSeconds: opts.leaseDurationSeconds ?? 40, schedulable: opts.schedulable ?? false };
  const deps = runnerDeps(opts, api, log);
  const { now, isolation, mountPoints } = deps;
  await api.upsertNode(nodeObject(id, now().toISOString()));
  await api.renewLease(nodeLease(id, undefined, now()));
  const nodeFacts = { name: id.name, labels: nodeObject(id, "").metadata?.labels ?? {} };
  const s: State = { api, id, opts, deps, log, runners: new Map(), terminating: new Set(), stopped: new AbortController(), nodeFacts };
  const loop = heartbeats(s);
  const selector = opts.podSelector ?? LABELS.component;
  const watch: PodWatch = api.watchPods(selector, (type, pod) => onPod(s, type, pod), (err) => {
    if (!s.stopped.signal.aborted) log.warn({ err: String(err) }, "pod watch interrupted; reconnecting");
  });
  await watch.synced;
  log.info({ node: id.name, selector, isolation }, "node agent ready");
  return {
    nodeName: id.name,
    root: opts.root,
    isolation,
    podDir: (pod) => podDir(opts.root, pod),
    activePods: () => [...s.runners].filter(([, e]) => !e.done).map(([uid]) => uid),
    logTails: (lines = 30) => tailsOf(opts.root, lines),
    stop: async (o) => {
      s.stopped.abort();
      await watch.stop();
      await Promise.all([...s.runners.values()].map((e) => e.handle.stop(0)));
      await loop;
      mountPoints.cleanup();
      if (o?.deleteNode) await api.deleteNode(id.name);
      log.info({ node: id.name }, "node agent stopped");
    },
  };
}
