/**
 * The local sandbox: a real control plane (etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler), an S3 server, the kubelet stand-ins (a KWOK node for workloads, the node
 * agent for our Jobs), our CRDs, our webhook registered with a caBundle and the Snapshot API
 * registered as an APIService (both their real mains as child processes, bundled as the image
 * runs them: scripts/bundle.ts), and a demo workload with data on its PVC, a StorageConnection,
 * a BackupPolicy and a first backup of it.
 * Up until Ctrl-C. (The controller that schedules runs is not built yet.)
 * Usage: scripts/run.sh [--dir DIR]
 * @module
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { toolPathsFromEnv } from "../test/env/config.ts";
import { startControlPlane } from "../test/env/control-plane.ts";
import { installCRDs } from "../test/env/register.ts";
import { startS3Server } from "../test/env/s3.ts";
import { waitFor } from "../test/env/wait.ts";
import { temporaryBundle } from "../test/support/bundle.ts";
import { yamlIn } from "../test/support/repo.ts";
import { bundledEntry } from "./bundle.ts";
import { demoObjects, seedBackup, writeDemoData } from "./sandbox-demo.ts";
import { startSnapshotApi } from "../test/support/snapshot-env.ts";
import { spawnWebhook } from "../test/support/webhook-env.ts";
import { createBoundClaim, startKwok } from "../test/env/kwok.ts";
import { startScheduler } from "../test/env/scheduler.ts";
import { startNodeAgent } from "../test/node-agent/agent.ts";

const { values } = parseArgs({ options: { dir: { type: "string", default: join(tmpdir(), "podwarden-sandbox") } } });
const dir = values.dir;
const tools = toolPathsFromEnv();
const say = (line: string): void => void process.stderr.write(`[sandbox] ${line}\n`);

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
say("bundling the servers as the image runs them (scripts/bundle.ts)");
const built = await temporaryBundle();
process.on("exit", () => built.remove());
say("starting the admission webhook");
const webhook = await spawnWebhook(cp, { dir, entry: bundledEntry(built.dir, "webhook"), cluster: "sandbox" });
say("creating the demo objects");
await cp.kubectlOk(["create", "namespace", "demo"]);
const dataDir = await createBoundClaim(cp, { namespace: "demo", claim: "demo-data", root });
writeDemoData(dataDir);
const demo = stringify({ apiVersion: "v1", kind: "List", items: demoObjects({ ...s3, bucket: "backups" }) });
await waitFor(async () => (await cp.kubectl(["apply", "-f", "-"], { input: demo })).code === 0, { what: "the demo objects admitted by the webhook", timeoutMs: 30_000 });
say("starting the Snapshot API and taking a first backup of the demo PVC with restic");
const nfsRoot = join(root, "nfs");
mkdirSync(nfsRoot, { recursive: true });
const api = await startSnapshotApi(cp, { dir: join(dir, "snapshots-api"), nfsRoot, entry: bundledEntry(built.dir, "apiserver") });
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
