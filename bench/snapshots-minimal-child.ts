/**
 * The minimal cold process of bench/snapshots-api.ts: the Snapshot API's index, restic adapter
 * and Table rendering, with no Kubernetes (policy, StorageConnection and password given), from
 * process start to the rendered Table of every snapshot. It shows what the server's cold start
 * costs beyond reading the repository: Kubernetes, HTTPS, authentication.
 *
 *   node bench/snapshots-minimal-child.ts <nfs root> <policy> <namespace> <repository path>
 *
 * The password comes from PW_BENCH_PASSWORD. Prints one JSON line: rows, bytes, problems.
 * Kept free of static imports of ours, so the process loads just what the server would.
 * @module
 */
const [nfsRoot = "", policy = "", ns = "", repoPath = ""] = process.argv.slice(2);
const NFS = { server: "nas.local", path: "/exports/bench" } as const;

const [{ createSnapshotIndex }, { createRepoSources, defaultBackend }, { KUBECTL_TABLE, listJson, prerenderRows }, { createLogger }] = await Promise.all([
  import("../apiserver/index.ts"),
  import("../apiserver/repo-sources.ts"),
  import("../apiserver/render.ts"),
  import("../kube/log.ts"),
]);
const log = createLogger({ name: "bench-minimal", level: "warn" });
const object = { metadata: { namespace: ns, name: policy }, spec: { storageRef: { name: "nas" }, repository: { path: repoPath, passwordSecretName: "pw" } } };
const sources = createRepoSources({
  listPolicies: () => [object],
  getPolicy: () => object,
  getStorage: () => ({ spec: { type: "nfs", nfs: NFS } }),
  readSecret: async () => ({ RESTIC_PASSWORD: process.env["PW_BENCH_PASSWORD"] ?? "" }),
  backend: defaultBackend(nfsRoot),
  log,
});
const clock = { now: () => Date.now() };
const index = createSnapshotIndex({ sources, runs: { runs: async () => new Map() }, clock, log, onStored: (objects) => prerenderRows(objects, KUBECTL_TABLE, clock.now()) });
await index.refreshAll();
const rows = index.list(ns).map((r) => r.object);
const body = listJson(rows, KUBECTL_TABLE, { now: clock.now(), listMeta: {} });
process.stdout.write(`${JSON.stringify({ rows: rows.length, bytes: body.length, problems: index.problems() })}\n`);
process.exit(0);
