// The node agent runs our Jobs' pods as local processes against a real kube-apiserver and the
// real Job controller: restic runs, the termination message reaches the pod, PVCs are
// directories, Secrets reach the environment, init containers go first, failures fail the Job,
// and deleting a pod leaves no process behind.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { LABELS } from "../../api/group.ts";
import { createLogger } from "../../kube/log.ts";
import { startControlPlane } from "../env/control-plane.ts";
import type { ControlPlane } from "../env/control-plane.ts";
import { processAlive } from "../env/procfs.ts";
import { tempDir, tools } from "../env/testing.ts";
import { waitFor, withLogTails } from "../env/wait.ts";
import { startNodeAgent } from "../node-agent/agent.ts";
import type { NodeAgent } from "../node-agent/agent.ts";
import { pvcDir } from "../node-agent/volumes.ts";

interface JobInput {
  readonly name: string;
  readonly namespace: string;
  readonly containers: readonly Record<string, unknown>[];
  readonly initContainers?: readonly Record<string, unknown>[];
  readonly volumes?: readonly Record<string, unknown>[];
  readonly restartPolicy?: "Never" | "OnFailure";
  readonly backoffLimit?: number;
  readonly activeDeadlineSeconds?: number;
}

function job(i: JobInput): string {
  return JSON.stringify({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: i.name, namespace: i.namespace },
    spec: {
      backoffLimit: i.backoffLimit ?? 0,
      template: {
        metadata: { labels: { [LABELS.component]: "backup" } },
        spec: {
          restartPolicy: i.restartPolicy ?? "Never",
          activeDeadlineSeconds: i.activeDeadlineSeconds,
          automountServiceAccountToken: false,
          initContainers: i.initContainers ?? [],
          containers: i.containers.map((c) => ({ image: "ignored.invalid/restic:0", ...c })),
          volumes: i.volumes ?? [],
        },
      },
    },
  });
}

describe("node agent", () => {
  const dir = tempDir("node-agent");
  const root = join(dir.path, "data");
  let cp: ControlPlane;
  let agent: NodeAgent;

  before(async () => {
    cp = await startControlPlane({ dir: join(dir.path, "cp"), controllerManager: true, binDir: tools.binDir, kubectl: tools.kubectl });
    agent = await startNodeAgent({ kubeconfigPath: cp.kubeconfigPath, root, nodeName: "agent-node", log: createLogger({ name: "node-agent", level: "warn" }) });
  });
  after(async () => {
    await agent?.stop();
    await cp?.stop();
    dir.remove();
  });
  const logs = () => [cp, agent].filter(Boolean);

  async function podOf(ns: string, jobName: string): Promise<V1Pod> {
    const out = await cp.kubectlOk(["get", "pods", "-n", ns, "-l", `job-name=${jobName}`, "-o", "json"]);
    const pod = (JSON.parse(out) as { items: V1Pod[] }).items[0];
    assert.ok(pod, `Job ${ns}/${jobName} has a pod`);
    return pod;
  }

  async function jobCondition(ns: string, name: string): Promise<string> {
    return waitFor(
      async () => {
        const out = await cp.kubectlOk(["get", "job", name, "-n", ns, "-o", "json"]);
        const conds = (JSON.parse(out) as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions ?? [];
        return conds.find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True")?.type;
      },
      { what: `Job ${ns}/${name} finishes`, timeoutMs: 90_000, intervalMs: 300 },
    );
  }

  it("runs `restic version` in a Job's pod until the Job is Complete", async () => {
    await withLogTails(logs(), async () => {
      const ns = "restic-version";
      await cp.kubectlOk(["create", "namespace", ns]);
      const script = "restic version | tee /dev/termination-log";
      await cp.kubectlOk(["apply", "-f", "-"], { input: job({ name: "version", namespace: ns, containers: [{ name: "restic", command: ["sh", "-c", script] }] }) });
      assert.equal(await jobCondition(ns, "version"), "Complete");
      const pod = await podOf(ns, "version");
      assert.equal(pod.status?.phase, "Succeeded");
      assert.equal(pod.spec?.nodeName, "agent-node");
      const term = pod.status?.containerStatuses?.[0]?.state?.terminated;
      assert.equal(term?.exitCode, 0);
      assert.equal(term?.reason, "Completed");
      assert.match(term?.message ?? "", /^restic 0\.\d+\.\d+/);
    });
  });

  it("mounts the PVC, passes Secret env, runs the init container first, and reports the termination message", async () => {
    await withLogTails(logs(), async () => {
      const ns = "volumes";
      await cp.kubectlOk(["create", "namespace", ns]);
      await cp.kubectlOk(["create", "secret", "generic", "repo-pass", "-n", ns, "--from-literal=RESTIC_PASSWORD=s3cret-value"]);
      await cp.kubectlOk(["create", "configmap", "settings", "-n", ns, "--from-literal=MODE=hot"]);
      const mounts = [{ name: "data", mountPath: "/pw-test-mnt/data" }];
      const init = { name: "prepare", image: "x", command: ["sh", "-c", "echo init > /pw-test-mnt/data/order.txt"], volumeMounts: mounts };
      const main = {
        name: "backup",
        command: ["sh", "-c", 'echo "main $RESTIC_PASSWORD $MODE $POD_NAME $(pwd)" >> order.txt && cat order.txt > /dev/termination-log'],
        workingDir: "/pw-test-mnt/data",
        env: [
          { name: "RESTIC_PASSWORD", valueFrom: { secretKeyRef: { name: "repo-pass", key: "RESTIC_PASSWORD" } } },
          { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        ],
        envFrom: [{ configMapRef: { name: "settings" } }],
        volumeMounts: mounts,
      };
      const volumes = [{ name: "data", persistentVolumeClaim: { claimName: "app-data" } }];
      await cp.kubectlOk(["apply", "-f", "-"], { input: job({ name: "vol", namespace: ns, initContainers: [init], containers: [main], volumes }) });
      assert.equal(await jobCondition(ns, "vol"), "Complete");
      const pod = await podOf(ns, "vol");
      const expected = `init\nmain s3cret-value hot ${pod.metadata?.name} /pw-test-mnt/data\n`;
      assert.equal(readFileSync(join(pvcDir(root, ns, "app-data"), "order.txt"), "utf8"), expected);
      const [initState, mainState] = [pod.status?.initContainerStatuses, pod.status?.containerStatuses].map((l) => l?.[0]?.state?.terminated);
      assert.equal(mainState?.message, expected);
      assert.equal(initState?.reason, "Completed");
      assert.ok(Date.parse(String(initState?.finishedAt)) <= Date.parse(String(mainState?.startedAt)), "init finished before main started");
      assert.equal(existsSync("/pw-test-mnt/data/order.txt"), false, "the mount was private to the container");
    });
  });

  it("fails the Job when the container exits non-zero (backoffLimit 0), with the log tail as message", async () => {
    await withLogTails(logs(), async () => {
      const ns = "failing";
      await cp.kubectlOk(["create", "namespace", ns]);
      const c = { name: "backup", command: ["sh", "-c", "echo 'Fatal: wrong password or no key found' >&2; exit 3"], terminationMessagePolicy: "FallbackToLogsOnError" };
      await cp.kubectlOk(["apply", "-f", "-"], { input: job({ name: "bad", namespace: ns, containers: [c] }) });
      assert.equal(await jobCondition(ns, "bad"), "Failed");
      const pod = await podOf(ns, "bad");
      assert.equal(pod.status?.phase, "Failed");
      const term = pod.status?.containerStatuses?.[0]?.state?.terminated;
      assert.equal(term?.exitCode, 3);
      assert.equal(term?.reason, "Error");
      assert.equal(term?.message, "Fatal: wrong password or no key found");
    });
  });

  it("kills every process of a running pod that is deleted, and the pod does not stay Terminating", async () => {
    await withLogTails(logs(), async () => {
      const ns = "deletion";
      await cp.kubectlOk(["create", "namespace", ns]);
      // `$$$$`: Kubernetes turns `$$` into `$` in commands, so the shell sees `$$`.
      const script = "sleep 600 & echo $! > child.pid; echo $$$$ > main.pid; wait";
      const c = { name: "sleeper", command: ["sh", "-c", script], workingDir: "/pw-test-mnt/work", volumeMounts: [{ name: "work", mountPath: "/pw-test-mnt/work" }] };
      const volumes = [{ name: "work", persistentVolumeClaim: { claimName: "work" } }];
      await cp.kubectlOk(["apply", "-f", "-"], { input: job({ name: "sleepy", namespace: ns, containers: [c], volumes }) });
      const dirOnHost = pvcDir(root, ns, "work");
      const pids = await waitFor(
        async () => {
          const files = ["main.pid", "child.pid"].map((f) => join(dirOnHost, f));
          if (!files.every((f) => existsSync(f) && readFileSync(f, "utf8").trim())) return undefined;
          return files.map((f) => Number(readFileSync(f, "utf8").trim()));
        },
        { what: "the sleeper pod's processes write their pids", timeoutMs: 60_000 },
      );
      assert.ok(pids.every(processAlive), "both processes run before the deletion");
      const pod = await podOf(ns, "sleepy");
      await cp.kubectlOk(["delete", "pod", pod.metadata?.name ?? "", "-n", ns, "--wait=true", "--timeout=60s"]);
      assert.deepEqual(pids.filter(processAlive), [], "no process of the deleted pod is left");
      assert.deepEqual(agent.activePods(), []);
      const left = await cp.kubectlOk(["get", "pod", pod.metadata?.name ?? "", "-n", ns, "--ignore-not-found", "-o", "name"]);
      assert.equal(left.trim(), "");
      await cp.kubectlOk(["delete", "job", "sleepy", "-n", ns, "--cascade=foreground", "--wait=true", "--timeout=60s"]);
    });
  });

  it("restarts a failed container under OnFailure and mounts Secret volumes read-only", async () => {
    await withLogTails(logs(), async () => {
      const ns = "on-failure";
      await cp.kubectlOk(["create", "namespace", ns]);
      await cp.kubectlOk(["create", "secret", "generic", "creds", "-n", ns, "--from-literal=key=AKIA-test"]);
      const script = [
        "if touch /pw-test-mnt/creds/x 2>/dev/null; then echo writable; exit 9; fi",
        "if [ ! -f attempt ]; then touch attempt; exit 1; fi",
        "cat /pw-test-mnt/creds/key > /dev/termination-log",
      ].join("; ");
      const c = {
        name: "retry",
        command: ["sh", "-c", script],
        workingDir: "/pw-test-mnt/state",
        volumeMounts: [
          { name: "state", mountPath: "/pw-test-mnt/state" },
          { name: "creds", mountPath: "/pw-test-mnt/creds", readOnly: true },
        ],
      };
      const volumes = [{ name: "state", emptyDir: {} }, { name: "creds", secret: { secretName: "creds" } }];
      await cp.kubectlOk(["apply", "-f", "-"], { input: job({ name: "retry", namespace: ns, containers: [c], volumes, restartPolicy: "OnFailure", backoffLimit: 3 }) });
      assert.equal(await jobCondition(ns, "retry"), "Complete");
      const status = (await podOf(ns, "retry")).status?.containerStatuses?.[0];
      assert.equal(status?.restartCount, 1);
      assert.equal(status?.lastState?.terminated?.exitCode, 1);
      assert.equal(status?.state?.terminated?.message, "AKIA-test");
    });
  });

  it("fails a pod that outlives its activeDeadlineSeconds", async () => {
    await withLogTails(logs(), async () => {
      const ns = "deadline";
      await cp.kubectlOk(["create", "namespace", ns]);
      const c = { name: "slow", command: ["sleep", "600"] };
      await cp.kubectlOk(["apply", "-f", "-"], { input: job({ name: "slow", namespace: ns, containers: [c], activeDeadlineSeconds: 1 }) });
      assert.equal(await jobCondition(ns, "slow"), "Failed");
      const pod = await podOf(ns, "slow");
      assert.equal(pod.status?.phase, "Failed");
      assert.equal(pod.status?.reason, "DeadlineExceeded");
      assert.ok((pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode ?? 0) > 128, "killed by a signal");
    });
  });

  it("keeps its node Ready with a Lease in kube-node-lease", async () => {
    await withLogTails(logs(), async () => {
      const ready = await cp.kubectlOk(["get", "node", "agent-node", "-o", 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
      assert.equal(ready.trim(), "True");
      const holder = await cp.kubectlOk(["get", "lease", "agent-node", "-n", "kube-node-lease", "-o", "jsonpath={.spec.holderIdentity}"]);
      assert.equal(holder.trim(), "agent-node");
      // Cordoned (kube-scheduler places nothing here), never NotReady or unreachable; the lifecycle controller adds the taint when it gets to it.
      const want = "node.kubernetes.io/unschedulable";
      const taints = await waitFor(async () => ((await cp.kubectlOk(["get", "node", "agent-node", "-o", "jsonpath={.spec.taints[*].key}"])).trim() === want ? want : undefined), {
        what: `agent-node tainted only with ${want}`,
        timeoutMs: 30_000,
      });
      assert.equal(taints, want);
    });
  });
});
