/**
 * What KWOK is given: our own minimal node and pod stages, the Exec CRD it watches with
 * `--enable-crds=Exec`, its command line, the fake Node and the per-pod Exec objects. Pure.
 *
 * The pod stages skip pods that carry `excludeLabel` (the node agent runs those as real
 * processes) and wait for the `exec-ready` annotation, which `kwok.ts` sets once the pod's
 * Exec object exists, so `kubectl exec` works as soon as the pod is Running.
 * @module
 */
import { stringify } from "yaml";

export const KWOK_GROUP = "kwok.x-k8s.io";
/** Label on the fake Node; KWOK manages exactly the nodes with `<label>=<node name>`. */
export const KWOK_NODE_LABEL = "kwok.podwarden.io/node";
/** Set on a pod once its Exec object exists; the pod-ready stage waits for it. */
export const EXEC_READY_ANNOTATION = "kwok.podwarden.io/exec-ready";

export interface StageInput {
  readonly kubeletPort: number;
  /** Pods with this label are left alone (the node agent's). */
  readonly excludeLabel: string;
}

const jqKey = (field: "labels" | "annotations", key: string) => `.metadata.${field}["${key}"]`;

const CAPACITY = { cpu: "1k", memory: "1Ti", pods: "1k", "ephemeral-storage": "1Ti" };

function nodeStatusTemplate(port: number): string {
  const fixed = stringify({
    addresses: [{ type: "InternalIP", address: "127.0.0.1" }],
    daemonEndpoints: { kubeletEndpoint: { Port: port } },
    allocatable: CAPACITY,
    capacity: CAPACITY,
    nodeInfo: { architecture: "amd64", operatingSystem: "linux", kubeletVersion: "v0.0.0-kwok", kubeProxyVersion: "", containerRuntimeVersion: "kwok", kernelVersion: "", osImage: "kwok", bootID: "", machineID: "", systemUUID: "" },
    phase: "Running",
  });
  return `{{ $now := Now }}
conditions:
- type: Ready
  status: "True"
  reason: KubeletReady
  message: kwok node is ready
  lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ or .metadata.creationTimestamp $now | Quote }}
${fixed}`;
}

const POD_READY_TEMPLATE = `{{ $now := Now }}
conditions:
- type: PodScheduled
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
- type: Initialized
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
- type: ContainersReady
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
- type: Ready
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
containerStatuses:
{{ range .spec.containers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  ready: true
  started: true
  restartCount: 0
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
initContainerStatuses:
{{ range .spec.initContainers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  ready: true
  restartCount: 0
  state:
    terminated:
      exitCode: 0
      reason: Completed
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}
{{ end }}
hostIP: "127.0.0.1"
hostIPs:
- ip: "127.0.0.1"
podIP: "127.0.0.1"
podIPs:
- ip: "127.0.0.1"
phase: Running
startTime: {{ $now | Quote }}
`;

const stage = (name: string, kind: "Node" | "Pod", spec: Record<string, unknown>) => ({
  apiVersion: `${KWOK_GROUP}/v1alpha1`,
  kind: "Stage",
  metadata: { name },
  spec: { resourceRef: { apiGroup: "v1", kind }, ...spec },
});

const readyIs = (op: "In" | "NotIn") => ({ key: '.status.conditions.[] | select( .type == "Ready" ) | .status', operator: op, values: ["True"] });

/** The stages document (several YAML documents) for `kwok --config`. */
export function stagesYaml(i: StageInput): string {
  const notOurs = { key: jqKey("labels", i.excludeLabel), operator: "DoesNotExist" };
  const stages = [
    stage("pw-node-initialize", "Node", { selector: { matchExpressions: [readyIs("NotIn")] }, next: { statusTemplate: nodeStatusTemplate(i.kubeletPort) } }),
    stage("pw-node-heartbeat", "Node", {
      selector: { matchExpressions: [readyIs("In")] },
      delay: { durationMilliseconds: 20_000, jitterDurationMilliseconds: 25_000 },
      next: { statusTemplate: nodeStatusTemplate(i.kubeletPort) },
    }),
    stage("pw-pod-ready", "Pod", {
      selector: {
        matchExpressions: [
          { key: ".metadata.deletionTimestamp", operator: "DoesNotExist" },
          { key: ".status.phase", operator: "In", values: ["Pending"] },
          notOurs,
          { key: jqKey("annotations", EXEC_READY_ANNOTATION), operator: "Exists" },
        ],
      },
      next: { statusTemplate: POD_READY_TEMPLATE },
    }),
    stage("pw-pod-delete", "Pod", {
      selector: { matchExpressions: [{ key: ".metadata.deletionTimestamp", operator: "Exists" }, notOurs] },
      next: { delete: true },
    }),
  ];
  return stages.map((s) => stringify(s)).join("---\n");
}

/** A minimal CRD for KWOK's Exec kind (KWOK reads `spec.execs[].local.{workDir,envs}`). */
export function execCrdYaml(): string {
  return stringify({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `execs.${KWOK_GROUP}` },
    spec: {
      group: KWOK_GROUP,
      names: { kind: "Exec", listKind: "ExecList", plural: "execs", singular: "exec" },
      scope: "Namespaced",
      versions: [
        {
          name: "v1alpha1",
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
        },
      ],
    },
  });
}

export interface ExecInput {
  readonly namespace: string;
  readonly podName: string;
  readonly podUid: string;
  readonly workDir: string;
  readonly env: Readonly<Record<string, string>>;
}

/** The Exec object for one pod: every container's exec runs locally in `workDir`; owned by the pod. */
export function execObject(i: ExecInput): Record<string, unknown> {
  return {
    apiVersion: `${KWOK_GROUP}/v1alpha1`,
    kind: "Exec",
    metadata: {
      name: i.podName,
      namespace: i.namespace,
      ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: i.podName, uid: i.podUid }],
    },
    spec: { execs: [{ local: { workDir: i.workDir, envs: Object.entries(i.env).map(([name, value]) => ({ name, value })) } }] },
  };
}

export interface KwokArgsInput {
  readonly kubeconfig: string;
  readonly configPath: string;
  readonly nodeName: string;
  /** KWOK's own (plain HTTP) server. */
  readonly serverPort: number;
  /** The port the Node advertises (the TLS exec proxy in front of KWOK). */
  readonly kubeletPort: number;
}

export function kwokArgs(i: KwokArgsInput): string[] {
  return [
    `--kubeconfig=${i.kubeconfig}`,
    `--config=${i.configPath}`,
    `--manage-all-nodes=false`,
    `--manage-nodes-with-label-selector=${KWOK_NODE_LABEL}=${i.nodeName}`,
    `--node-ip=127.0.0.1`,
    `--node-port=${i.kubeletPort}`,
    `--server-address=127.0.0.1:${i.serverPort}`,
    `--enable-crds=Exec`,
    `--node-lease-duration-seconds=40`,
  ];
}

/** The fake Node; KWOK's node stage fills in its status. */
export function kwokNodeObject(nodeName: string): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: nodeName,
      labels: { [KWOK_NODE_LABEL]: nodeName, "kubernetes.io/hostname": nodeName, "kubernetes.io/os": "linux", type: "kwok" },
      annotations: { "node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake" },
    },
    spec: {},
  };
}

export interface ClaimInput {
  readonly namespace: string;
  readonly claim: string;
  /** Host directory the PersistentVolume points at (`<root>/pvc/<ns>/<claim>`). */
  readonly hostPath: string;
  readonly size?: string;
}

export const LOCAL_STORAGE_CLASS = "pw-local";

export const claimPvName = (i: Pick<ClaimInput, "namespace" | "claim">): string => `pw-${i.namespace}-${i.claim}`;

/** A PersistentVolumeClaim already bound (by name and annotation) to its volume. */
export function boundClaimObject(i: ClaimInput): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: i.claim, namespace: i.namespace, annotations: { "pv.kubernetes.io/bind-completed": "yes" } },
    spec: { accessModes: ["ReadWriteOnce"], storageClassName: LOCAL_STORAGE_CLASS, volumeName: claimPvName(i), resources: { requests: { storage: i.size ?? "1Gi" } } },
  };
}

/** A hostPath PersistentVolume whose claimRef names the claim (with its uid). */
export function boundVolumeObject(i: ClaimInput, claimUid: string): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: claimPvName(i) },
    spec: {
      capacity: { storage: i.size ?? "1Gi" },
      accessModes: ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: LOCAL_STORAGE_CLASS,
      hostPath: { path: i.hostPath, type: "DirectoryOrCreate" },
      claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: i.namespace, name: i.claim, uid: claimUid },
    },
  };
}
