// Workload pods on a KWOK node: kube-scheduler places a Deployment that mounts a PVC on the fake
// node, it becomes Running, and exec — through kubectl and through client-node's Exec, the
// path the controller's pre-backup hooks take — runs a local command in the PVC directory and
// returns its output and exit code. Pods with our component label on that node are left to the
// node agent.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { Exec } from "@kubernetes/client-node";
import type { V1Pod, V1Status } from "@kubernetes/client-node";
import { LABELS } from "../../api/group.ts";
import { loadKubeConfig } from "../env/client-node.ts";
import { createLogger } from "../../kube/log.ts";
import { startControlPlane } from "../env/control-plane.ts";
import type { ControlPlane } from "../env/control-plane.ts";
import { createBoundClaim, startKwok } from "../env/kwok.ts";
import type { Kwok } from "../env/kwok.ts";
import { startScheduler } from "../env/scheduler.ts";
import type { Scheduler } from "../env/scheduler.ts";
import { tempDir, tools } from "../env/testing.ts";
import { waitFor, withLogTails } from "../env/wait.ts";
import { startNodeAgent } from "../node-agent/agent.ts";
import type { NodeAgent } from "../node-agent/agent.ts";

const NS = "shop";

function deployment(): string {
  return JSON.stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "db", namespace: NS },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "db" } },
      template: {
        metadata: { labels: { app: "db" } },
        spec: {
          containers: [{ name: "main", image: "postgres:17", volumeMounts: [{ name: "data", mountPath: "/var/lib/postgresql/data" }] }],
          volumes: [{ name: "data", persistentVolumeClaim: { claimName: "db-data" } }],
        },
      },
    },
  });
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

describe("KWOK node", () => {
  const dir = tempDir("kwok");
  const root = join(dir.path, "data");
  const log = createLogger({ name: "kwok-test", level: "warn" });
  let cp: ControlPlane;
  let scheduler: Scheduler;
  let kwok: Kwok;
  let agent: NodeAgent;
  let podName = "";

  before(async () => {
    cp = await startControlPlane({ dir: join(dir.path, "cp"), controllerManager: true, binDir: tools.binDir, kubectl: tools.kubectl });
    scheduler = await startScheduler(cp, { binDir: tools.binDir, log });
    kwok = await startKwok(cp, { dir: join(dir.path, "kwok"), nodeName: "kwok-node", root, binDir: tools.binDir, log });
    agent = await startNodeAgent({ kubeconfigPath: cp.kubeconfigPath, root, nodeName: "agent-node", log });
  });
  after(async () => {
    await agent?.stop();
    await kwok?.stop();
    await scheduler?.stop();
    await cp?.stop();
    dir.remove();
  });
  const logs = () => [cp, scheduler, kwok, agent].filter(Boolean);

  it("schedules a Deployment with a PVC onto the KWOK node, where it runs", async () => {
    await withLogTails(logs(), async () => {
      await cp.kubectlOk(["create", "namespace", NS]);
      await createBoundClaim(cp, { namespace: NS, claim: "db-data", root });
      await cp.kubectlOk(["apply", "-f", "-"], { input: deployment() });
      await cp.kubectlOk(["rollout", "status", "deployment/db", "-n", NS, "--timeout=90s"]);
      const pods = JSON.parse(await cp.kubectlOk(["get", "pods", "-n", NS, "-l", "app=db", "-o", "json"])) as { items: V1Pod[] };
      const pod = pods.items[0];
      assert.equal(pod?.spec?.nodeName, "kwok-node");
      assert.equal(pod?.status?.phase, "Running");
      podName = pod?.metadata?.name ?? "";
      assert.equal(kwok.execWorkDir(pod as V1Pod), join(root, "pvc", NS, "db-data"));
    });
  });

  const kubectlCases = [
    { name: "exit 0 with output, in the PVC directory", script: "pwd; echo ok > hook-ran", code: 0, stdout: `${join(root, "pvc", NS, "db-data")}\n`, stderr: /^$/ },
    { name: "non-zero exit code and both streams", script: "echo partial; echo 'pg_ctl: server is not running' >&2; exit 3", code: 3, stdout: "partial\n", stderr: /pg_ctl: server is not running\ncommand terminated with exit code 3/ },
  ] as const;
  for (const tc of kubectlCases) {
    it(`kubectl exec: ${tc.name}`, async () => {
      await withLogTails(logs(), async () => {
        assert.ok(podName, "the Deployment's pod is Running (previous test)");
        const res = await cp.kubectl(["exec", "-n", NS, podName, "--", "sh", "-c", tc.script]);
        assert.equal(res.code, tc.code, res.stderr);
        assert.equal(res.stdout, tc.stdout);
        assert.match(res.stderr, tc.stderr);
      });
    });
  }

  it("kubectl exec ran the hook where the PVC lives", () => {
    assert.equal(readFileSync(join(root, "pvc", NS, "db-data", "hook-ran"), "utf8"), "ok\n");
  });

  const clientCases = [
    { name: "Success for exit 0", script: "echo flushed", status: "Success", exitCode: undefined, stdout: "flushed\n" },
    { name: "NonZeroExitCode with the ExitCode cause", script: "echo failing >&2; exit 4", status: "Failure", exitCode: "4", stdout: "" },
  ] as const;
  for (const tc of clientCases) {
    it(`client-node Exec: ${tc.name}`, async () => {
      await withLogTails(logs(), async () => {
        const out = collector();
        const err = collector();
        const exec = new Exec(loadKubeConfig(cp.kubeconfigPath));
        const status = await new Promise<V1Status>((resolve, reject) => {
          exec.exec(NS, podName, "main", ["sh", "-c", tc.script], out.stream, err.stream, null, false, resolve).catch(reject);
        });
        assert.equal(status.status, tc.status, JSON.stringify(status));
        assert.equal(out.text(), tc.stdout);
        if (tc.exitCode) {
          assert.equal(status.reason, "NonZeroExitCode");
          assert.equal(status.details?.causes?.find((c) => c.reason === "ExitCode")?.message, tc.exitCode);
          assert.equal(err.text(), "failing\n");
        }
      });
    });
  }

  it("exec keeps working for a StatefulSet pod scaled to 0 and back (same pod name, new pod)", async () => {
    await withLogTails(logs(), async () => {
      await createBoundClaim(cp, { namespace: NS, claim: "data-cache-0", root });
      const sts = {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: { name: "cache", namespace: NS },
        spec: {
          replicas: 1,
          serviceName: "cache",
          selector: { matchLabels: { app: "cache" } },
          template: { metadata: { labels: { app: "cache" } }, spec: { containers: [{ name: "main", image: "redis", volumeMounts: [{ name: "data", mountPath: "/data" }] }] } },
          volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], storageClassName: "pw-local", resources: { requests: { storage: "1Gi" } } } }],
        },
      };
      await cp.kubectlOk(["apply", "-f", "-"], { input: JSON.stringify(sts) });
      const claimDir = `${join(root, "pvc", NS, "data-cache-0")}\n`;
      for (const replicas of [1, 0, 1]) {
        await cp.kubectlOk(["scale", "statefulset/cache", "-n", NS, `--replicas=${replicas}`]);
        await cp.kubectlOk(["rollout", "status", "statefulset/cache", "-n", NS, "--timeout=90s"]);
        if (replicas === 0) {
          await waitFor(async () => (await cp.kubectlOk(["get", "pods", "-n", NS, "-l", "app=cache", "-o", "name"])).trim() === "", { what: "cache-0 gone", timeoutMs: 60_000 });
          continue;
        }
        const res = await cp.kubectl(["exec", "-n", NS, "cache-0", "--", "sh", "-c", "pwd; exit 6"]);
        assert.equal(res.code, 6, res.stderr);
        assert.equal(res.stdout, claimDir);
      }
    });
  });

  it("leaves pods with the component label on the KWOK node to the node agent", async () => {
    await withLogTails(logs(), async () => {
      const job = {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: "backup-db-data", namespace: NS },
        spec: {
          backoffLimit: 0,
          template: {
            metadata: { labels: { [LABELS.component]: "backup" } },
            spec: {
              restartPolicy: "Never",
              automountServiceAccountToken: false,
              nodeSelector: { "kubernetes.io/hostname": "kwok-node" },
              containers: [{ name: "restic", image: "x", command: ["sh", "-c", "cat /data/hook-ran > /dev/termination-log"], volumeMounts: [{ name: "data", mountPath: "/data", readOnly: true }] }],
              volumes: [{ name: "data", persistentVolumeClaim: { claimName: "db-data" } }],
            },
          },
        },
      };
      await cp.kubectlOk(["apply", "-f", "-"], { input: JSON.stringify(job) });
      await cp.kubectlOk(["wait", "--for=condition=Complete", "job/backup-db-data", "-n", NS, "--timeout=90s"]);
      const pods = JSON.parse(await cp.kubectlOk(["get", "pods", "-n", NS, "-l", "job-name=backup-db-data", "-o", "json"])) as { items: V1Pod[] };
      const pod = pods.items[0];
      assert.equal(pod?.spec?.nodeName, "kwok-node", "the scheduler placed it on the KWOK node");
      assert.equal(pod?.status?.containerStatuses?.[0]?.state?.terminated?.message, "ok\n", "the node agent ran it, reading the PVC");
      assert.equal(pod?.metadata?.annotations?.["kwok.podwarden.io/exec-ready"], undefined, "KWOK did not touch it");
    });
  });

  it("keeps both nodes Ready; only the agent's is cordoned", async () => {
    await withLogTails(logs(), async () => {
      const expected = { "kwok-node": "True/", "agent-node": "True/node.kubernetes.io/unschedulable" };
      for (const [node, want] of Object.entries(expected)) {
        const jsonpath = 'jsonpath={.status.conditions[?(@.type=="Ready")].status}/{.spec.taints[*].key}';
        // The node lifecycle controller adds the cordon taint on its own schedule: wait for it.
        const got = await waitFor(async () => ((await cp.kubectlOk(["get", "node", node, "-o", jsonpath])).trim() === want ? want : undefined), {
          what: `node ${node} Ready with taints "${want.split("/")[1]}"`,
          timeoutMs: 30_000,
        });
        assert.equal(got, want);
      }
    });
  });
});
