/**
 * A real control plane with our CRDs installed and our admission webhook (the production
 * app, with its watch-backed lookups) registered with url + caBundle.
 * @module
 */
import { once } from "node:events";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:https";
import type { Server } from "node:https";
import type { AddressInfo } from "node:net";
import { yamlIn } from "./repo.ts";
import { loadKubeClient } from "../../kube/client.ts";
import { createLogger } from "../../kube/log.ts";
import { createApp } from "../../webhook/app.ts";
import { apiLiveReads, cachesSynced, createLookups, startLookupCaches } from "../../webhook/lookups.ts";
import { startControlPlane } from "../env/control-plane.ts";
import type { ControlPlane } from "../env/control-plane.ts";
import { installCRDs, issueLocalServingCert, registerWebhooks, writeLocalServingCert } from "../env/register.ts";
import { inheritedEnv } from "../env/config.ts";
import { freePort } from "../env/ports.ts";
import { startProcess } from "../env/supervisor.ts";
import type { SupervisedProcess } from "../env/supervisor.ts";
import { tempDir, tools } from "../env/testing.ts";
import { waitFor } from "../env/wait.ts";
import { stringify } from "yaml";
import { API_VERSION } from "../../api/index.ts";


export interface WebhookEnv {
  readonly cp: ControlPlane;
  stop(): Promise<void>;
}

/** kube-apiserver picks up a new webhook configuration a moment late: wait until it calls ours. */
async function untilWebhookAnswers(cp: ControlPlane): Promise<void> {
  const probe = stringify({ apiVersion: API_VERSION, kind: "StorageConnection", metadata: { name: "webhook-probe" }, spec: { type: "nfs" } });
  await waitFor(async () => (await cp.kubectl(["apply", "--dry-run=server", "-f", "-"], { input: probe })).stderr.includes("validate.backup.podwarden.io"), {
    what: "kube-apiserver calling the podwarden webhook",
    timeoutMs: 30_000,
  });
}

export interface RunningWebhook {
  stop(): Promise<void>;
}

/** Our webhook (the production app, its watch-backed lookups) on loopback, registered with `cp`. */
export async function startWebhook(cp: ControlPlane, opts: { cluster?: string } = {}): Promise<RunningWebhook> {
  const log = createLogger({ name: "webhook", level: "silent" });
  const client = loadKubeClient(cp.kubeconfigPath);
  const caches = startLookupCaches(client, log);
  await cachesSynced(caches);
  const lookups = createLookups(caches, apiLiveReads(client), () => new Date());
  let n = 0;
  const app = createApp({
    log,
    ready: () => true,
    defaulting: { cluster: opts.cluster ?? "test", randomSuffix: () => `s${String(++n).padStart(7, "0")}` },
    lookups: lookups.context,
    prepare: lookups.prepare,
  });
  const tls = await issueLocalServingCert();
  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem }, app);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  await registerWebhooks(cp, { url: `https://127.0.0.1:${port}`, caPem: tls.caPem, manifestPaths: yamlIn("manifests/webhook") });
  await untilWebhookAnswers(cp);
  return {
    async stop() {
      await Promise.all([caches.storage.stop(), caches.policies.stop(), caches.deployments.stop(), caches.statefulsets.stop()]);
      server.closeAllConnections();
      server.close();
    },
  };
}

/**
 * The webhook as a pod runs it: its main (webhook/main.ts, or a bundle's main.js) as a child
 * process with its own serving certificate, registered with `cp` and answering.
 */
export async function spawnWebhook(cp: ControlPlane, opts: { readonly dir: string; readonly entry?: string; readonly cluster?: string }): Promise<SupervisedProcess> {
  const tls = await writeLocalServingCert(join(opts.dir, "webhook-tls"));
  const port = await freePort();
  const proc = await startProcess({
    name: "podwarden-webhook",
    command: process.execPath,
    args: [opts.entry ?? fileURLToPath(new URL("../../webhook/main.ts", import.meta.url))],
    env: {
      ...inheritedEnv(),
      KUBECONFIG: cp.kubeconfigPath,
      PORT: String(port),
      BIND_ADDRESS: "127.0.0.1",
      TLS_CERT_FILE: tls.certFile,
      TLS_KEY_FILE: tls.keyFile,
      CLUSTER_NAME: opts.cluster ?? "test",
    },
    logPath: join(opts.dir, "logs", "webhook.log"),
  });
  try {
    await registerWebhooks(cp, { url: `https://127.0.0.1:${port}`, caPem: tls.caPem, manifestPaths: yamlIn("manifests/webhook") });
    await untilWebhookAnswers(cp);
  } catch (err) {
    const tail = proc.tail(20);
    await proc.stop();
    throw new Error(`spawnWebhook: ${(err as Error).message}\n${tail}`, { cause: err });
  }
  return proc;
}

export async function startWebhookEnv(opts: { controllerManager?: boolean; cluster?: string } = {}): Promise<WebhookEnv> {
  const dir = tempDir("webhook");
  const cp = await startControlPlane({ dir: dir.path, binDir: tools.binDir, kubectl: tools.kubectl, controllerManager: opts.controllerManager ?? false });
  await installCRDs(cp, yamlIn("manifests/crds"));
  const webhook = await startWebhook(cp, opts);
  return {
    cp,
    async stop() {
      await webhook.stop();
      await cp.stop();
      dir.remove();
    },
  };
}
