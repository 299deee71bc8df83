/**
 * A KWOK node for workload pods: a fake Node that is Ready, pods bound to it become Running
 * without running anything, and its kubelet endpoint (KWOK's server on 127.0.0.1, TLS) runs
 * `kubectl exec` commands as local processes in the pod's first PVC directory
 * (`<root>/pvc/<ns>/<claim>`, the node agent's convention) — so exec travels the real path
 * client → kube-apiserver → kubelet endpoint.
 *
 * Pods carrying the node agent's label (`backup.podwarden.io/component`) are left alone.
 * For each other pod on the node an Exec object (`kwok.x-k8s.io/v1alpha1`, same name and
 * namespace as the pod, owned by it) is created, then the pod is annotated; KWOK's pod stage
 * waits for that annotation, so exec works as soon as the pod is Running.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CoreV1Api, CustomObjectsApi, ListWatch, PatchStrategy, setHeaderOptions, Watch } from "@kubernetes/client-node";
import type { V1Pod } from "@kubernetes/client-node";
import { LABELS } from "../../api/group.ts";
import { generateCA, issueCertificate } from "../../certs/certificates.ts";
import { loadKubeConfig } from "./client-node.ts";
import type { Logger } from "../../kube/log.ts";
import { defaultBinDir, inheritedEnv } from "./config.ts";
import { startExecProxy } from "./kwok-exec-proxy.ts";
import { boundClaimObject, boundVolumeObject, claimPvName, EXEC_READY_ANNOTATION, execCrdYaml, execObject, KWOK_GROUP, kwokArgs, kwokNodeObject, stagesYaml } from "./kwok-config.ts";
import type { KubectlOptions } from "./kubectl.ts";
import { freePort } from "./ports.ts";
import { startProcess } from "./supervisor.ts";
import type { SupervisedProcess } from "./supervisor.ts";
import { waitFor } from "./wait.ts";

/** What KWOK needs from a control plane (a `ControlPlane` fits). */
export interface KwokTarget {
  readonly kubeconfigPath: string;
  kubectlOk(args: readonly string[], opts?: KubectlOptions): Promise<string>;
}

export interface KwokOptions {
  /** Working directory: config, serving cert, log. */
  readonly dir: string;
  /** Name of the fake Node (default `kwok-node`). */
  readonly nodeName?: string;
  /** Data root shared with the node agent; exec runs in `<root>/pvc/<ns>/<first claim>` (default `<dir>/data`). */
  readonly root?: string;
  /** Pods with this label are not KWOK's (default `backup.podwarden.io/component`). */
  readonly excludeLabel?: string;
  readonly binDir?: string;
  readonly log?: Logger;
  /** Limit for each readiness wait (default 60 s). */
  readonly timeoutMs?: number;
}

export interface Kwok {
  readonly nodeName: string;
  /** KWOK's kubelet server: `https://127.0.0.1:<port>`. */
  readonly kubeletUrl: string;
  readonly root: string;
  readonly process: Pick<SupervisedProcess, "name" | "pid" | "logPath">;
  /** Where `kubectl exec` runs for this pod. */
  execWorkDir(pod: V1Pod): string;
  logTails(lines?: number): string;
  stop(): Promise<void>;
}

/** The pod's first PVC directory, else a per-pod directory under `<root>/kwok-pods/`. */
export function execWorkDir(root: string, pod: V1Pod): string {
  const ns = pod.metadata?.namespace ?? "default";
  const claim = (pod.spec?.volumes ?? []).find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim?.claimName;
  return claim ? join(root, "pvc", ns, claim) : join(root, "kwok-pods", ns, pod.metadata?.name ?? "unnamed");
}

async function servingCert(): Promise<{ certPem: string; keyPem: string }> {
  const ca = await generateCA("podwarden-test-kwok-kubelet-ca");
  return issueCertificate({ ca, commonName: "kwok-kubelet", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], usage: "server" });
}

interface ExecWiring {
  readonly stop: () => Promise<void>;
}

/** Watches the node's pods (not ours) and gives each an Exec object, then the ready annotation. */
function wireExecs(kubeconfigPath: string, o: { nodeName: string; root: string; excludeLabel: string; log?: Logger }): ExecWiring {
  const kc = loadKubeConfig(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const labelSelector = `!${o.excludeLabel}`;
  const fieldSelector = `spec.nodeName=${o.nodeName}`;
  const list = () => core.listPodForAllNamespaces({ labelSelector, fieldSelector });
  const informer = new ListWatch<V1Pod>("/api/v1/pods", new Watch(kc), list, false, labelSelector, fieldSelector);
  const done = new Set<string>();
  let stopped = false;
  const configure = async (pod: V1Pod) => {
    const { namespace = "default", name = "", uid = "" } = pod.metadata ?? {};
    const workDir = execWorkDir(o.root, pod);
    mkdirSync(workDir, { recursive: true });
    const body = execObject({ namespace, podName: name, podUid: uid, workDir, env: { POD_NAME: name, POD_NAMESPACE: namespace, HOME: workDir } });
    const ref = { group: KWOK_GROUP, version: "v1alpha1", namespace, plural: "execs" };
    try {
      await custom.createNamespacedCustomObject({ ...ref, body });
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
      // Left by an earlier pod of the same name (StatefulSet pods come back as db-0): replace it.
      await custom.deleteNamespacedCustomObject({ ...ref, name }).catch(() => undefined);
      await custom.createNamespacedCustomObject({ ...ref, body });
    }
    const patch = { metadata: { annotations: { [EXEC_READY_ANNOTATION]: "true" } } };
    await core.patchNamespacedPod({ namespace, name, body: patch }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
  };
  const onPod = (pod: V1Pod) => {
    const uid = pod.metadata?.uid ?? "";
    if (stopped || done.has(uid) || pod.metadata?.deletionTimestamp || pod.metadata?.annotations?.[EXEC_READY_ANNOTATION]) return;
    done.add(uid);
    configure(pod).catch((err: unknown) => {
      done.delete(uid);
      o.log?.warn({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, err: String(err) }, "kwok exec wiring failed");
    });
  };
  informer.on("add", onPod);
  informer.on("update", onPod);
  informer.on("delete", (pod) => done.delete(pod.metadata?.uid ?? ""));
  informer.on("error", (err) => {
    if (!stopped) o.log?.warn({ err: String(err) }, "kwok pod watch interrupted; reconnecting");
  });
  void informer.start().catch((err: unknown) => o.log?.warn({ err: String(err) }, "kwok pod watch failed to start"));
  return {
    stop: async () => {
      stopped = true;
      await informer.stop();
    },
  };
}

export interface ClaimOptions {
  readonly namespace: string;
  readonly claim: string;
  /** Data root shared with the node agent and KWOK; the volume is `<root>/pvc/<ns>/<claim>`. */
  readonly root: string;
  readonly size?: string;
}

/**
 * Creates a PersistentVolumeClaim that is Bound at once to a hostPath PersistentVolume at
 * `<root>/pvc/<ns>/<claim>`, so kube-scheduler schedules pods that use it without waiting for
 * the PV controller's next sync. Returns the host directory.
 */
export async function createBoundClaim(cp: KwokTarget, o: ClaimOptions): Promise<string> {
  const hostPath = join(o.root, "pvc", o.namespace, o.claim);
  mkdirSync(hostPath, { recursive: true });
  const input = { namespace: o.namespace, claim: o.claim, hostPath, size: o.size };
  await cp.kubectlOk(["apply", "-f", "-"], { input: JSON.stringify(boundClaimObject(input)) });
  const uid = (await cp.kubectlOk(["get", "pvc", o.claim, "-n", o.namespace, "-o", "jsonpath={.metadata.uid}"])).trim();
  await cp.kubectlOk(["apply", "-f", "-"], { input: JSON.stringify(boundVolumeObject(input, uid)) });
  const size = o.size ?? "1Gi";
  await cp.kubectlOk(["patch", "pv", claimPvName(input), "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: { phase: "Bound" } })]);
  const claimStatus = { status: { phase: "Bound", accessModes: ["ReadWriteOnce"], capacity: { storage: size } } };
  await cp.kubectlOk(["patch", "pvc", o.claim, "-n", o.namespace, "--subresource=status", "--type=merge", "-p", JSON.stringify(claimStatus)]);
  return hostPath;
}

async function nodeReady(cp: KwokTarget, nodeName: string): Promise<boolean> {
  const out = await cp.kubectlOk(["get", "node", nodeName, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]);
  return out.trim() === "True";
}

/** Starts KWOK for one fake node on `cp`; resolves once the Node is Ready and KWOK's server answers. */
export async function startKwok(cp: KwokTarget, opts: KwokOptions): Promise<Kwok> {
  const nodeName = opts.nodeName ?? "kwok-node";
  const root = opts.root ?? join(opts.dir, "data");
  const timeoutMs = opts.timeoutMs ?? 60_000;
  mkdirSync(opts.dir, { recursive: true });
  const [serverPort, kubeletPort, tls] = await Promise.all([freePort(), freePort(), servingCert()]);
  const configPath = join(opts.dir, "stages.yaml");
  writeFileSync(configPath, stagesYaml({ kubeletPort, excludeLabel: opts.excludeLabel ?? LABELS.component }));
  await cp.kubectlOk(["apply", "-f", "-"], { input: execCrdYaml() });
  await cp.kubectlOk(["wait", "--for=condition=Established", `crd/execs.${KWOK_GROUP}`, "--timeout=60s"]);
  await cp.kubectlOk(["apply", "-f", "-"], { input: JSON.stringify(kwokNodeObject(nodeName)) });
  const proxy = await startExecProxy({ port: kubeletPort, targetPort: serverPort, certPem: tls.certPem, keyPem: tls.keyPem });
  const proc = await startProcess({
    name: "kwok",
    command: join(opts.binDir ?? defaultBinDir(), "kwok"),
    args: kwokArgs({ kubeconfig: cp.kubeconfigPath, configPath, nodeName, serverPort, kubeletPort }),
    env: inheritedEnv(), // exec'd commands are looked up on this PATH
    logPath: join(opts.dir, "kwok.log"),
  }).catch(async (err: unknown) => {
    await proxy.stop();
    throw err;
  });
  const execs = wireExecs(cp.kubeconfigPath, { nodeName, root, excludeLabel: opts.excludeLabel ?? LABELS.component, log: opts.log });
  const stop = async () => {
    await execs.stop();
    await proc.stop();
    await proxy.stop();
  };
  try {
    const abort = proc.exited.then((e) => `kwok exited (code ${e.code}, signal ${e.signal})`);
    await waitFor(() => nodeReady(cp, nodeName), { what: `KWOK node ${nodeName} Ready`, timeoutMs, intervalMs: 200, abort });
    const health = `http://127.0.0.1:${serverPort}/healthz`;
    await waitFor(async () => (await fetch(health, { signal: AbortSignal.timeout(2000) })).ok, { what: `KWOK server ${health}`, timeoutMs, abort });
  } catch (err) {
    const tail = proc.tail(40);
    await stop();
    throw new Error(`startKwok: ${(err as Error).message}\n${tail}`, { cause: err });
  }
  opts.log?.info({ nodeName, serverPort, kubeletPort }, "kwok ready");
  return {
    nodeName,
    kubeletUrl: `https://127.0.0.1:${kubeletPort}`,
    root,
    process: { name: proc.name, pid: proc.pid, logPath: proc.logPath },
    execWorkDir: (pod) => execWorkDir(root, pod),
    logTails: (lines) => `== kwok (${proc.logPath}) ==\n${proc.tail(lines)}`,
    stop,
  };
}
