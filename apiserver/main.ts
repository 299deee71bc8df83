/**
 * Composition root of the aggregated Snapshot API server: reads the environment once, starts
 * the caches and the authentication watch, serves HTTPS (client certificates requested,
 * serving certificate reloaded on change).
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { loadKubeConfig } from "../kube/client.ts";
import { createHttpsServer } from "../kube/https.ts";
import { createLogger } from "../kube/log.ts";
import { createApp } from "./app.ts";
import { createAuthenticator } from "./authn.ts";
import { createAuthorizer } from "./authz.ts";
import { createSnapshotIndex } from "./index.ts";
import { kubeAccessReviewer, kubeTokenReviewer, watchAuthConfig } from "./kube-auth.ts";
import { cachedRunLookup, policyConditionApplier, secretReader, startKubeCaches, storageLookup, wireRefreshTriggers } from "./kube-sources.ts";
import { createConditionWriter } from "./policy-conditions.ts";
import { createRepoSources, defaultBackend } from "./repo-sources.ts";
import { realClock, realEvery } from "./types.ts";

const env = process.env;
const config = {
  port: Number(env["PORT"] ?? 8443),
  host: env["BIND_ADDRESS"] ?? "0.0.0.0",
  certFile: env["TLS_CERT_FILE"] ?? "/etc/podwarden/tls/tls.crt",
  keyFile: env["TLS_KEY_FILE"] ?? "/etc/podwarden/tls/tls.key",
  kubeconfig: env["KUBECONFIG"],
  logLevel: (env["LOG_LEVEL"] ?? "info") as "info",
  refreshIntervalMs: Number(env["REFRESH_INTERVAL_SECONDS"] ?? 60) * 1000,
  nfsRoot: env["NFS_MOUNT_ROOT"] ?? "/mnt/nfs",
  concurrency: Number(env["REPOSITORY_CONCURRENCY"] ?? 4),
};

const log = createLogger({ name: "podwarden-snapshots-api", level: config.logLevel });
const clock = realClock;
const kc = loadKubeConfig(config.kubeconfig);

const authConfig = watchAuthConfig({ kc, log, sleep: (ms) => sleep(ms) });
const caches = startKubeCaches(kc, log);
const sources = createRepoSources({
  listPolicies: () => caches.policies.list(),
  getPolicy: (namespace, name) => caches.policies.get(name, namespace),
  getStorage: storageLookup(caches.storage),
  readSecret: secretReader({ kc, clock }),
  backend: defaultBackend(config.nfsRoot),
  log,
});
const conditions = createConditionWriter({
  getPolicy: (ref) => caches.policies.get(ref.name, ref.namespace),
  apply: policyConditionApplier(kc),
  clock,
  log,
});
const index = createSnapshotIndex({
  sources,
  runs: cachedRunLookup(caches.runs),
  clock,
  log,
  every: realEvery,
  refreshIntervalMs: config.refreshIntervalMs,
  concurrency: config.concurrency,
  onListed: (e) => conditions.observe(e),
});

const app = createApp({
  index,
  authenticator: createAuthenticator({ config: authConfig, tokens: kubeTokenReviewer(kc), clock }),
  authorizer: createAuthorizer({ reviewer: kubeAccessReviewer(kc), clock }),
  log,
  clock,
  // Kubernetes picks a random watch length between 30 and 60 minutes.
  defaultWatchTimeoutSeconds: 1800 + Math.floor(Math.random() * 1800),
});

await authConfig.ready;
const server = createHttpsServer({ certFile: config.certFile, keyFile: config.keyFile }, app, log, {
  requestCert: true,
  rejectUnauthorized: false,
});
server.listen(config.port, config.host, () => log.info({ port: config.port, host: config.host }, "snapshot API listening"));

await caches.synced;
wireRefreshTriggers(caches, (key) => void index.refresh(key));
index.start();
log.info({ refreshIntervalMs: config.refreshIntervalMs }, "snapshot index started");

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    log.info({ signal }, "shutting down");
    index.stop();
    authConfig.stop();
    void caches.stop();
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 5000).unref();
  });
}
