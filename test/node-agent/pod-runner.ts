/**
 * The life of one pod on the node agent: volumes, init containers in order, then the
 * containers side by side, restarts per restartPolicy, activeDeadlineSeconds, and the status
 * written back through `pods/status` at every step, as a kubelet would.
 * @module
 */
import { join } from "node:path";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import type { Logger } from "../../kube/log.ts";
import { statusCode } from "./api.ts";
import { startContainer } from "./container.ts";
import type { ContainerInstance } from "./container.ts";
import { commandLine, ContainerConfigError, resolveEnv } from "./env.ts";
import type { DataSources } from "./env.ts";
import type { Isolation, MountPoints } from "./launch.ts";
import { finalPhase, podStatus } from "./status.ts";
import type { ContainerRecord, PodRecord, Terminated } from "./status.ts";
import { containerMounts, podDir, prepareVolumes } from "./volumes.ts";
import type { PreparedVolume } from "./volumes.ts";

export interface PodRunnerDeps {
  readonly sources: DataSources;
  /** Writes `status` to the pod's `status` subresource (merge patch). */
  readonly writeStatus: (namespace: string, name: string, status: Record<string, unknown>) => Promise<void>;
  readonly root: string;
  readonly baseEnv: Readonly<Record<string, string>>;
  readonly isolation: Isolation;
  readonly mountPoints: MountPoints;
  readonly log: Logger;
  readonly now: () => Date;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface PodHandle {
  /** Settles when the pod has reached a terminal phase or was stopped. */
  readonly finished: Promise<void>;
  /** Stops every container (SIGTERM, SIGKILL after `graceMs`) and records the pod as Failed. */
  stop(graceMs: number, reason?: { reason: string; message: string }): Promise<void>;
}

interface Ctx {
  readonly pod: V1Pod;
  readonly deps: PodRunnerDeps;
  readonly rec: PodRecord;
  readonly abort: AbortController;
  readonly live: Set<ContainerInstance>;
  readonly dir: string;
  writing: Promise<void>;
}

const record = (c: V1Container, reason: string): ContainerRecord => ({ name: c.name, image: c.image ?? "", state: { waiting: { reason } }, restartCount: 0 });

function publish(ctx: Ctx): Promise<void> {
  const { namespace = "default", name = "" } = ctx.pod.metadata ?? {};
  const status = podStatus(ctx.rec, ctx.deps.now().toISOString());
  ctx.writing = ctx.writing
    .then(() => ctx.deps.writeStatus(namespace, name, status))
    .catch((err: unknown) => {
      // A pod deleted meanwhile has no status to write.
      if (statusCode(err) !== 404) ctx.deps.log.warn({ pod: `${namespace}/${name}`, err: String(err) }, "pod status write failed");
    });
  return ctx.writing;
}

async function prepare(ctx: Ctx): Promise<Map<string, PreparedVolume> | undefined> {
  for (let attempt = 0; !ctx.abort.signal.aborted; attempt++) {
    try {
      return await prepareVolumes(ctx.pod, ctx.deps.root, ctx.deps.sources);
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      for (const c of [...ctx.rec.init, ...ctx.rec.main]) c.state = { waiting: { reason: "ContainerCreating", message: err.message } };
      if (attempt === 0) await publish(ctx);
      await ctx.deps.sleep(1000, ctx.abort.signal);
    }
  }
  return undefined;
}

async function launch(ctx: Ctx, c: V1Container, volumes: ReadonlyMap<string, PreparedVolume>): Promise<ContainerInstance> {
  const env = await resolveEnv(ctx.pod, c, ctx.deps.sources, { ...ctx.deps.baseEnv, HOSTNAME: ctx.pod.metadata?.name ?? "", HOME: join(ctx.dir, "home") });
  const argv = commandLine(c, env);
  const terminationFile = join(ctx.dir, "containers", c.name, "termination-log");
  const mounts = containerMounts(c, volumes, { terminationFile, env });
  return startContainer({
    podKey: `${ctx.pod.metadata?.namespace}/${ctx.pod.metadata?.name}`,
    container: c,
    argv,
    env,
    mounts,
    logPath: join(ctx.dir, "logs", `${c.name}.log`),
    terminationFile,
    isolation: ctx.deps.isolation,
    mountPoints: ctx.deps.mountPoints,
    now: ctx.deps.now,
  });
}

/**
 * One run of `c`: its terminated state, or `undefined` when its configuration is not usable yet
 * (CreateContainerConfigError: retried, as a kubelet does). A process that cannot be started
 * at all ends as StartError with exit code 128.
 */
async function runOnce(ctx: Ctx, c: V1Container, r: ContainerRecord, volumes: ReadonlyMap<string, PreparedVolume>): Promise<Terminated | undefined> {
  let inst: ContainerInstance;
  try {
    inst = await launch(ctx, c, volumes);
  } catch (err) {
    const message = (err as Error).message;
    if (!(err instanceof ContainerConfigError)) {
      const now = ctx.deps.now().toISOString();
      return { exitCode: 128, reason: "StartError", message, startedAt: now, finishedAt: now };
    }
    r.state = { waiting: { reason: "CreateContainerConfigError", message } };
    await publish(ctx);
    await ctx.deps.sleep(1000, ctx.abort.signal);
    return undefined;
  }
  ctx.live.add(inst);
  if (ctx.abort.signal.aborted) await inst.stop(0); // stopped while it was starting
  r.state = { running: { startedAt: inst.startedAt } };
  await publish(ctx);
  const term = await inst.done;
  ctx.live.delete(inst);
  return term;
}

/** Runs `c` until it is done for good; true when it ended with exit code 0. */
async function runContainer(ctx: Ctx, c: V1Container, r: ContainerRecord, o: { volumes: ReadonlyMap<string, PreparedVolume>; init: boolean }): Promise<boolean> {
  const policy = ctx.pod.spec?.restartPolicy ?? "Always";
  while (!ctx.abort.signal.aborted) {
    const term = await runOnce(ctx, c, r, o.volumes);
    if (!term) continue;
    r.state = { terminated: term };
    const ok = term.exitCode === 0;
    if (ctx.abort.signal.aborted || (ok && (o.init || policy !== "Always")) || (!ok && policy === "Never")) return ok;
    r.lastState = r.state;
    r.restartCount++;
    r.state = { waiting: { reason: "CrashLoopBackOff", message: `back-off restarting failed container ${c.name}` } };
    await publish(ctx);
    await ctx.deps.sleep(Math.min(10_000, 1000 * 2 ** (r.restartCount - 1)), ctx.abort.signal);
  }
  return false;
}

async function run(ctx: Ctx): Promise<void> {
  const spec = ctx.pod.spec ?? { containers: [] };
  await publish(ctx);
  const volumes = await prepare(ctx);
  if (!volumes) return;
  for (const [i, c] of (spec.initContainers ?? []).entries()) {
    const r = ctx.rec.init[i] as ContainerRecord;
    if (!(await runContainer(ctx, c, r, { volumes, init: true }))) {
      if (ctx.abort.signal.aborted) return;
      ctx.rec.phase = "Failed";
      await publish(ctx);
      return;
    }
  }
  for (const r of ctx.rec.main) r.state = { waiting: { reason: "ContainerCreating" } };
  ctx.rec.phase = "Running";
  await Promise.all(spec.containers.map((c, i) => runContainer(ctx, c, ctx.rec.main[i] as ContainerRecord, { volumes, init: false })));
  if (ctx.abort.signal.aborted) return;
  ctx.rec.phase = finalPhase(ctx.rec);
  await publish(ctx);
}

/** Starts running `pod`; the returned handle stops it. Never throws: failures end in the pod's status. */
export function runPod(pod: V1Pod, deps: PodRunnerDeps): PodHandle {
  const spec = pod.spec ?? { containers: [] };
  const ctx: Ctx = {
    pod,
    deps,
    rec: {
      phase: "Pending",
      startTime: pod.status?.startTime ? new Date(pod.status.startTime).toISOString() : deps.now().toISOString(),
      init: (spec.initContainers ?? []).map((c) => record(c, "PodInitializing")),
      main: spec.containers.map((c) => record(c, spec.initContainers?.length ? "PodInitializing" : "ContainerCreating")),
    },
    abort: new AbortController(),
    live: new Set(),
    dir: podDir(deps.root, pod),
    writing: Promise.resolve(),
  };
  const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  const finished = run(ctx)
    .catch((err: unknown) => deps.log.error({ pod: key, err: String(err) }, "pod run failed"))
    .finally(() => ctx.abort.abort()); // ends the deadline timer of a pod that finished
  let stopping: Promise<void> | undefined;
  const stop = (graceMs: number, why?: { reason: string; message: string }) =>
    (stopping ??= (async () => {
      ctx.abort.abort();
      await Promise.all([...ctx.live].map((i) => i.stop(graceMs)));
      await finished;
      if (ctx.rec.phase === "Succeeded" || ctx.rec.phase === "Failed") return;
      ctx.rec.phase = "Failed";
      if (why) Object.assign(ctx.rec, why);
      await publish(ctx);
    })());
  const deadline = spec.activeDeadlineSeconds;
  if (deadline !== undefined) {
    const left = Date.parse(ctx.rec.startTime) + deadline * 1000 - deps.now().getTime();
    void deps.sleep(Math.max(0, left), ctx.abort.signal).then(() => {
      if (!ctx.abort.signal.aborted) void stop(0, { reason: "DeadlineExceeded", message: `Pod was active on the node longer than the specified deadline (${deadline} s)` });
    });
  }
  return { finished, stop };
}
