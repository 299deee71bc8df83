/**
 * Composition root of the aggregated Snapshot API server: reads the environment once, starts
 * the caches and the authentication watch, serves HTTPS (client certificates requested,
 * serving certificate reloaded on change).
 *
 * Ordered for a short cold start: the requests of the caches, of the authentication watch and
 * of the key Secret go out first (kube/rest.ts, docs/kube-client.md); the index starts as soon
 * as policies and StorageConnections are listed, and the HTTPS side (the request handler, authentication,
 * authorization) loads once its first listing is under way (docs/snapshots-cold-start.md).
 * HTTPS serves once the authentication configuration is in (discovery and OpenAPI answer from
 * then on); /readyz turns ready when the first listing is in the index.
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "../kube/log.ts";
import type { DecodePool } from "../restic/decode-pool.ts";
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
  /** The reader's persistent snapshot cache (an emptyDir); unset: memory only. */
  cacheDir: env["SNAPSHOT_CACHE_DIR"] || undefined,
  /** A Secret of this namespace that keeps unlocked keys for the next pods (key-secret.ts); unset: none. */
  keySecret: env["KEY_SECRET_NAME"] && env["POD_NAMESPACE"] ? { namespace: env["POD_NAMESPACE"], name: env["KEY_SECRET_NAME"] } : undefined,
};

const log = createLogger({ name: "podwarden-snapshots-api", level: config.logLevel });
log.info({ startupMs: Math.round(performance.now()) }, "snapshot API starting");
// The Kubernetes requests go out first: their answers (policies and StorageConnections, then
// each policy's password Secret) are what the first listing waits for longest.
const [{ loadKubeClient }, { kubeAccessReviewer, kubeTokenReviewer, watchAuthConfig }, kubeSources, { secretKeyStore }] = await Promise.all([
  import("../kube/client.ts"),
  import("./kube-auth.ts"),
  import("./kube-sources.ts"),
  import("./key-secret.ts"),
]);
const { cachedRunLookup, policyConditionApplier, secretReader, startKubeCaches, storageLookup, wirePolicyTriggers, wireRunTrigger } = kubeSources;
const client = loadKubeClient(config.kubeconfig, { host: env["KUBERNETES_SERVICE_HOST"], port: env["KUBERNETES_SERVICE_PORT"] });
const authConfig = watchAuthConfig({ client, log, sleep: (ms) => sleep(ms) });
const caches = startKubeCaches(client, log);
const keySecret = config.keySecret === undefined ? undefined : secretKeyStore({ client, ...config.keySecret, log });

// Key derivations (scrypt's blocks, restic/scrypt.ts) and large listings run in these workers.
// When keys must be derived, they start while those requests are in flight and are up by the
// time the first password is read; their first derivation runs while the main thread has
// nothing to do but wait (see below). When the keys are at hand (a restarted container's
// emptyDir, or the key Secret an earlier pod filled; docs/snapshots-cold-start.md), no
// derivation is coming: the workers start when a large listing needs them.
const [{ createDecodePool, defaultPoolSize }, { holdsKeys, keyStore, layeredKeyStore }] = await Promise.all([import("../restic/decode-pool.ts"), import("../restic/key-store.ts")]);
const restarted = config.cacheDir !== undefined && holdsKeys(config.cacheDir);
const keysAtHand = restarted ? Promise.resolve(true) : (keySecret?.held().then((n) => n > 0) ?? Promise.resolve(false));
const pool = createDecodePool({ size: defaultPoolSize() });
void keysAtHand.then((yes) => yes || pool.prestart());
/**
 * Resolves when the first listing is under way: the workers get their first job (a key
 * derivation, or a large listing's first batch), or a small listing's first rows are stored.
 */
const underWay = Promise.withResolvers<void>();
const telling =
  <A extends unknown[], R>(job: (...args: A) => R) =>
  (...args: A): R => {
    underWay.resolve();
    return job(...args);
  };
const decodePool: DecodePool = { ...pool, romix: telling(pool.romix), readAndDecode: telling(pool.readAndDecode), decode: telling(pool.decode) };
// Keys are looked up in the emptyDir first (a restarted container), then in the key Secret (a new pod).
const stores = [...(config.cacheDir === undefined ? [] : [keyStore(config.cacheDir)]), ...(keySecret === undefined ? [] : [keySecret])];

// The index's own modules load while the requests are in flight.
const [{ createSnapshotIndex }, { KUBECTL_TABLE, prerenderRows }, { createRepoSources, defaultBackend }, { createConditionWriter }] = await Promise.all([
  import("./index.ts"),
  import("./render.ts"),
  import("./repo-sources.ts"),
  import("./policy-conditions.ts"),
]);
const clock = realClock;

const readSecret = secretReader({ client, clock });
const sources = createRepoSources({
  listPolicies: () => caches.policies.list(),
  getPolicy: (namespace, name) => caches.policies.get(name, namespace),
  getStorage: storageLookup(caches.storage),
  readSecret,
  backend: defaultBackend(config.nfsRoot),
  ...(config.cacheDir === undefined ? {} : { cacheDir: config.cacheDir }),
  ...(stores.length === 0 ? {} : { keyStore: layeredKeyStore(stores) }),
  decodePool,
  clock,
  log,
});
const conditions = createConditionWriter({
  getPolicy: (ref) => caches.policies.get(ref.name, ref.namespace),
  apply: policyConditionApplier(client),
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
  // A cold listing's rows are rendered for kubectl's Table as they are stored, while the rest of
  // the repository is still being read, rather than on the first request.
  onStored: (objects) => {
    underWay.resolve();
    prerenderRows(objects, KUBECTL_TABLE, clock.now());
  },
});

const refresh = (key: string): void => void index.refresh(key);
// The index starts once policies and StorageConnections are listed (the run lookup waits for
// the BackupRun cache itself); each trigger is wired once its cache holds its first list, so
// that list's own events refresh nothing.
const indexStarted = Promise.all([caches.policies.synced, caches.storage.synced]).then(() => {
  wirePolicyTriggers(caches, refresh);
  index.start();
  log.info({ refreshIntervalMs: config.refreshIntervalMs, snapshotCacheDir: config.cacheDir ?? null }, "snapshot index started");
  void caches.runs.synced.then(() => wireRunTrigger(caches, refresh));
});
const indexReady = indexStarted
  .then(() => index.refreshAll())
  .then(() => log.info({ startupMs: Math.round(performance.now()), snapshots: index.list().length }, "snapshot index ready"));

// The HTTPS side loads once the first listing is under way: when the workers get their first
// job (deriving a key, or starting on a large listing), while the main thread would only wait
// for them, or when a small listing's first rows are in; loading it earlier would only delay
// the answers, files and Secrets the index waits for, and loading it after the listing would
// delay the first request. A restarted container reads its caches on the main thread and
// starts no workers: it loads the HTTPS side as the index starts, while the index waits for its
// Secrets and files. Bounded, so that health endpoints are served even while the lists keep
// failing.
await Promise.race([restarted ? indexStarted : underWay.promise, indexReady, sleep(1000)]);
const [{ createApp }, { createAuthenticator }, { createAuthorizer }, { createHttpsServer }] = await Promise.all([
  import("./app.ts"),
  import("./authn.ts"),
  import("./authz.ts"),
  import("../kube/https.ts"),
]);
const app = createApp({
  index,
  authenticator: createAuthenticator({ config: authConfig, tokens: kubeTokenReviewer(client), clock }),
  authorizer: createAuthorizer({ reviewer: kubeAccessReviewer(client), clock }),
  log,
  clock,
  // Kubernetes picks a random watch length between 30 and 60 minutes.
  defaultWatchTimeoutSeconds: 1800 + Math.floor(Math.random() * 1800),
});
const server = createHttpsServer({ certFile: config.certFile, keyFile: config.keyFile }, app, log, {
  requestCert: true,
  rejectUnauthorized: false,
});
void authConfig.ready.then(() => {
  server.listen(config.port, config.host, () => log.info({ port: config.port, host: config.host }, "snapshot API listening"));
});

// On shutdown the disk caches' pending writes land first (they wait a second after a listing),
// so that a restarted container finds them; bounded like the rest of the shutdown.
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    log.info({ signal }, "shutting down");
    index.stop();
    authConfig.stop();
    void caches.stop();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    void Promise.allSettled([closed, sources.flushCaches()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  });
}
