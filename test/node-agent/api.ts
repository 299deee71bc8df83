/**
 * The node agent's adapter to kube-apiserver (@kubernetes/client-node): everything it reads and
 * writes, behind one small interface the rest of the agent takes as a dependency.
 * @module
 */
import {
  CoordinationV1Api,
  CoreV1Api,
  ListWatch,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from "@kubernetes/client-node";
import type { KubeConfig, V1Lease, V1Node, V1Pod } from "@kubernetes/client-node";
import type { DataSources } from "./env.ts";

export interface PodWatch {
  /** Resolves once the first list has been delivered. */
  readonly synced: Promise<void>;
  list(): readonly V1Pod[];
  stop(): Promise<void>;
}

export interface AgentApi {
  readonly sources: DataSources;
  /** Creates the Node, or updates labels of an existing one; then writes its status. */
  upsertNode(node: V1Node): Promise<void>;
  patchNodeStatus(name: string, status: Record<string, unknown>): Promise<void>;
  /** Creates or renews the node's Lease in kube-node-lease. */
  renewLease(lease: V1Lease): Promise<void>;
  deleteNode(name: string): Promise<void>;
  bindPod(namespace: string, name: string, nodeName: string): Promise<void>;
  patchPodStatus(namespace: string, name: string, status: Record<string, unknown>): Promise<void>;
  /** Deletes with grace period 0 (the processes are already gone). */
  deletePodNow(namespace: string, name: string, uid: string): Promise<void>;
  watchPods(labelSelector: string, onChange: (type: "add" | "update" | "delete", pod: V1Pod) => void, onError: (err: unknown) => void): PodWatch;
}

/** HTTP status of a client-node error (0 when it has none). */
export function statusCode(err: unknown): number {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "number" ? code : 0;
}

async function ignoring<T>(codes: readonly number[], p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (codes.includes(statusCode(err))) return undefined;
    throw err;
  }
}

function decode(data: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data ?? {})) out[k] = Buffer.from(v, "base64").toString("utf8");
  return out;
}

function dataSources(core: CoreV1Api): DataSources {
  return {
    secret: async (namespace, name) => {
      const s = await ignoring([404], core.readNamespacedSecret({ namespace, name }));
      return s ? { ...decode(s.data), ...(s.stringData ?? {}) } : undefined;
    },
    configMap: async (namespace, name) => {
      const c = await ignoring([404], core.readNamespacedConfigMap({ namespace, name }));
      return c ? { ...(c.data ?? {}), ...decode(c.binaryData) } : undefined;
    },
  };
}

const mergePatch = () => setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export function createAgentApi(kc: KubeConfig): AgentApi {
  const core = kc.makeApiClient(CoreV1Api);
  const coord = kc.makeApiClient(CoordinationV1Api);
  return {
    sources: dataSources(core),
    upsertNode: async (node) => {
      const name = node.metadata?.name ?? "";
      const created = await ignoring([409], core.createNode({ body: node }));
      if (!created) await core.patchNode({ name, body: { metadata: { labels: node.metadata?.labels ?? {} }, spec: node.spec } }, mergePatch());
      await core.patchNodeStatus({ name, body: { status: node.status } }, mergePatch());
    },
    patchNodeStatus: async (name, status) => {
      await core.patchNodeStatus({ name, body: { status } }, mergePatch());
    },
    renewLease: async (lease) => {
      const { name = "", namespace = "kube-node-lease" } = lease.metadata ?? {};
      // MicroTime wants exactly six fractional digits; a Date in an untyped patch body would get three.
      const renewTime = lease.spec?.renewTime ? lease.spec.renewTime.toISOString().replace(/Z$/, "000Z") : undefined;
      const body = { spec: { ...lease.spec, renewTime } };
      const patched = await ignoring([404], coord.patchNamespacedLease({ name, namespace, body }, mergePatch()));
      if (!patched) await ignoring([409], coord.createNamespacedLease({ namespace, body: { ...lease, ...body } as unknown as V1Lease }));
    },
    deleteNode: async (name) => {
      await ignoring([404], core.deleteNode({ name }));
    },
    bindPod: async (namespace, name, nodeName) => {
      const body = { apiVersion: "v1", kind: "Binding", metadata: { name, namespace }, target: { apiVersion: "v1", kind: "Node", name: nodeName } };
      await core.createNamespacedPodBinding({ name, namespace, body });
    },
    patchPodStatus: async (namespace, name, status) => {
      await core.patchNamespacedPodStatus({ namespace, name, body: { status } }, mergePatch());
    },
    deletePodNow: async (namespace, name, uid) => {
      await ignoring([404, 409], core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid } } }));
    },
    watchPods: (labelSelector, onChange, onError) => {
      const list = () => core.listPodForAllNamespaces({ labelSelector });
      const informer = new ListWatch<V1Pod>("/api/v1/pods", new Watch(kc), list, false, labelSelector);
      let markSynced: () => void = () => undefined;
      const synced = new Promise<void>((resolve) => (markSynced = resolve));
      informer.on("connect", () => markSynced());
      informer.on("error", onError);
      for (const verb of ["add", "update", "delete"] as const) informer.on(verb, (pod) => onChange(verb, pod));
      void informer.start().catch(onError);
      return { synced, list: () => informer.list(), stop: () => informer.stop() };
    },
  };
}
