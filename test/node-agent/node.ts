/**
 * The agent's Node: registration (Ready, addresses on loopback, plenty of capacity) and the
 * heartbeats that keep the node lifecycle controller from tainting it — a Lease in
 * kube-node-lease renewed often, and a status update now and then.
 * @module
 */
import type { V1Lease, V1Node } from "@kubernetes/client-node";

export interface NodeIdentity {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Lease duration (the node lifecycle controller's grace period is larger). */
  readonly leaseDurationSeconds: number;
  /** When false the Node is cordoned: kube-scheduler places nothing there; the agent binds its own pods. */
  readonly schedulable: boolean;
}

/** The Ready condition and friends, all healthy, stamped `now`. Pure. */
export function nodeConditions(now: string) {
  const ok = (type: string, reason: string, message: string, status = "False") => ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: now });
  return [
    ok("MemoryPressure", "KubeletHasSufficientMemory", "node agent: no memory pressure"),
    ok("DiskPressure", "KubeletHasNoDiskPressure", "node agent: no disk pressure"),
    ok("PIDPressure", "KubeletHasSufficientPID", "node agent: no PID pressure"),
    ok("Ready", "KubeletReady", "podwarden test node agent is ready", "True"),
  ];
}

const CAPACITY = { cpu: "1k", memory: "1Ti", pods: "1k", "ephemeral-storage": "1Ti" } as const;

/** Node status: Ready, loopback address, capacity. Pure. */
export function nodeStatus(now: string): Record<string, unknown> {
  return {
    conditions: nodeConditions(now),
    addresses: [{ type: "InternalIP", address: "127.0.0.1" }],
    capacity: CAPACITY,
    allocatable: CAPACITY,
    nodeInfo: {
      architecture: "amd64",
      operatingSystem: "linux",
      kubeletVersion: "v0.0.0-podwarden-node-agent",
      kubeProxyVersion: "",
      containerRuntimeVersion: "pw-node-agent://0",
      kernelVersion: "",
      osImage: "podwarden test node agent",
      bootID: "",
      machineID: "",
      systemUUID: "",
    },
    phase: "Running",
  };
}

/** The Node object to register. Pure. */
export function nodeObject(id: NodeIdentity, now: string): V1Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: id.name, labels: { "kubernetes.io/hostname": id.name, "kubernetes.io/os": "linux", ...id.labels } },
    spec: { unschedulable: !id.schedulable },
    status: nodeStatus(now) as V1Node["status"],
  };
}

/** The node's Lease, renewed `now`. Pure. */
export function nodeLease(id: NodeIdentity, nodeUid: string | undefined, now: Date): V1Lease {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: {
      name: id.name,
      namespace: "kube-node-lease",
      ...(nodeUid ? { ownerReferences: [{ apiVersion: "v1", kind: "Node", name: id.name, uid: nodeUid }] } : {}),
    },
    spec: { holderIdentity: id.name, leaseDurationSeconds: id.leaseDurationSeconds, renewTime: now },
  };
}
