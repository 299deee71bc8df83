/**
 * Composition root of the admission webhook: reads the environment once, starts the caches,
 * serves HTTPS with certificate reload.
 * @module
 */
import { randomBytes } from "node:crypto";
import { loadKubeClient } from "../kube/client.ts";
import { createHttpsServer } from "../kube/https.ts";
import { createLogger } from "../kube/log.ts";
import { randomSuffix } from "../api/index.ts";
import { createApp } from "./app.ts";
import { apiLiveReads, cachesSynced, createLookups, startLookupCaches } from "./lookups.ts";

const env = process.env;
const config = {
  port: Number(env["PORT"] ?? 9443),
  host: env["BIND_ADDRESS"] ?? "0.0.0.0",
  certFile: env["TLS_CERT_FILE"] ?? "/etc/podwarden/tls/tls.crt",
  keyFile: env["TLS_KEY_FILE"] ?? "/etc/podwarden/tls/tls.key",
  kubeconfig: env["KUBECONFIG"],
  cluster: env["CLUSTER_NAME"] ?? "default",
  logLevel: (env["LOG_LEVEL"] ?? "info") as "info",
};

const log = createLogger({ name: "podwarden-webhook", level: config.logLevel });
const client = loadKubeClient(config.kubeconfig, { host: env["KUBERNETES_SERVICE_HOST"], port: env["KUBERNETES_SERVICE_PORT"] });
const caches = startLookupCaches(client, log);
const lookups = createLookups(caches, apiLiveReads(client), () => new Date());
let synced = false;
const app = createApp({
  log,
  ready: () => synced,
  defaulting: { cluster: config.cluster, randomSuffix: () => randomSuffix((n) => randomBytes(n)) },
  lookups: lookups.context,
  prepare: lookups.prepare,
});

await cachesSynced(caches);
synced = true;
const server = createHttpsServer({ certFile: config.certFile, keyFile: config.keyFile }, app, log);
server.listen(config.port, config.host, () => log.info({ port: config.port, host: config.host }, "webhook listening"));
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    log.info({ signal }, "shutting down");
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  });
}
