/**
 * The local sandbox: a real control plane (etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler), an S3 server, the kubelet stand-ins (a KWOK node for workloads, the node
 * agent for our Jobs), our CRDs, our webhook (its real main.ts, as a child process) registered
 * with a caBundle, the Snapshot API (its real main.ts) registered as an APIService, and a demo
 * workload with data on its PVC, a StorageConnection, a BackupPolicy and a first backup of it.
 * Up until Ctrl-C. (The controller that schedules runs is not built yet.)
 * Usage: scripts/run.sh [--dir DIR]
 * @module
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { inheritedEnv, toolPathsFromEnv } from "../test/env/config.ts";
import { startControlPlane } from "../test/env/control-plane.ts";
import type { ControlPlane } from "../test/env/control-plane.ts";
import { freePort } from "../test/env/ports.ts";
import { installCRDs, issueLocalServingCert, registerWebhooks } from "../test/env/register.ts";
import { startS3Server } from "../test/env/s3.ts";
import { startProcess } from "../test/env/supervisor.ts";
import type { SupervisedProcess } from "../test/env/supervisor.ts";
import { waitFor } from "../test/env/wait.ts";
import { yamlIn } from "../test/support/repo.ts";
import { demoObjects, seedBackup, writeDemoData } from "./sandbox-demo.ts";
import { startSnapshotApi } from "../test/support/snapshot-env.ts";
import { createBoundClaim, startKwok } from "../test/env/kwok.ts";
import { startScheduler } from "../test/env/scheduler.ts";
import { startNodeAgent } from "../test/node-agent/agent.ts";

const { values } = parseArgs({ options: { dir: { type: "string", default: join(tmpdir(), "podwarden-sandbox") } } });
const dir = values.dir;
const tools = toolPathsFromEnv();
const say = (line: string): void => void process.stderr.write(`[sandbox] ${line}\n`);

async function startWebhook(cp: ControlPlane): Promise<SupervisedProcess> {
  const tlsDir = join(dir, "webhook-tls");
  mkdirSync(tlsDir, { recursive: true });
  const tls = await issueLocalServingCert();
  writeFileSync(join(tlsDir, "tls.crt"), tls.certPem);
  writeFileSync(join(tlsDir, "tls.key"), tls.keyPem, { mode: 0o600 });
  const port = await freePort();
  const proc = await startProcess({
    name: "podwarden-webhook",
    command: process.execPath,
    args: [new URL("../webhook/main.ts", import.meta.url).pathname],
    env: {
      ...inheritedEnv(),
      KUBECONFIG: cp.kubeconfigPath,
      PORT: String(port),
      BIND_ADDRESS: "127.0.0.1",
      TLS_CERT_FILE: join(tlsDir, "tls.crt"),
      TLS_KEY_FILE: join(tlsDir, "tls.key"),
      CLUSTER_NAME: "sandbox",
    },
    logPath: join(dir, "logs", "webhook.log"),
  });
  await registerWebhooks(cp, { url: `https://127.0.0.1:${port}`, caPem: tls.caPem, manifestPaths: yamlIn("manifests/webhook") });
  return proc;
}

rmSync(join(dir, "control-plane"), { recursive: true, force: true });
say(`starting the control plane and S3 in ${dir}`);
const [cp, s3] = await Promise.all([
  startControlPlane({ dir: join(dir, "control-plane"), controllerManager: true, binDir: tools.binDir, kubectl: tools.kubectl }),
  startS3Server({ dir: join(dir, "s3"), binDir: tools.binDir }),
]);
await s3.createBucket("backups").catch(() => undefined);
say("starting kube-scheduler, a KWOK node and the node agent");
const root = join(dir, "nodes");
await startScheduler(cp, { dir: join(dir, "scheduler"), binDir: tools.binDir });
const kwok = await startKwok(cp, { dir: join(dir, "kwok"), root, binDir: tools.binDir });
await startNodeAgent({ kubeconfigPath: cp.kubeconfigPath, root });
say("installing the CRDs");
await installCRDs(cp, yamlIn("manifests/crds"));
say("starting the admission webhook");
const webhook = await startWebhook(cp);
say("creating the demo objects");
await cp.kubectlOk(["create", "namespace", "demo"]);
const dataDir = await createBoundClaim(cp, { namespace: "demo", claim: "demo-data", root });
writeDemoData(dataDir);
const demo = stringify({ apiVersion: "v1", kind: "List", items: demoObjects({ ...s3, bucket: "backups" }) });
await waitFor(async () => (await cp.kubectl(["apply", "-f", "-"], { input: demo })).code === 0, { what: "the demo objects admitted by the webhook", timeoutMs: 30_000 });
say("starting the Snapshot API and taking a first backup of the demo PVC with restic");
const nfsRoot = join(root, "nfs");
mkdirSync(nfsRoot, { recursive: true });
const api = await startSnapshotApi(cp, { dir: join(dir, "snapshots-api"), nfsRoot });
const seeded = await seedBackup({ cp, s3, bucket: "backups", dataDir });
writeFileSync(join(dir, "env.sh"), `export KUBECONFIG='${cp.kubeconfigPath}'\n`);

process.stdout.write(`
PodWarden sandbox is up (control plane cold start ${cp.timings.total.toFixed(1)} s).
Logs: ${join(dir, "control-plane", "logs")}, ${webhook.logPath}, ${api.server.logPath}

  source ${join(dir, "env.sh")}
  kubectl get storageconnections
  kubectl get backuppolicies -A
  kubectl get backuppolicy pw-backup-demo-app -n demo -o yaml
  kubectl get pods -n demo -o wide          # Running on ${kwok.nodeName}
  kubectl exec -n demo deploy/demo-app -- ls  # runs in the PVC's directory: ${dataDir}
  kubectl explain backuppolicy.spec
  kubectl get snapshots -n demo             # ${seeded}, read live from the S3 repository
  kubectl describe snapshot ${seeded} -n demo
  kubectl get podwarden -A

Ctrl-C stops everything.
`);
setInterval(() => undefined, 60_000);
