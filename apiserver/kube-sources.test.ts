import { test } from "node:test";
import assert from "node:assert/strict";
import type { Cache, KubernetesObject } from "../kube/informer.ts";
import { cachedRunLookup, runInfoOf, wirePolicyTriggers, wireRefreshTriggers, wireRunTrigger } from "./kube-sources.ts";
import type { KubeCaches, RunObject } from "./kube-sources.ts";

/** A Cache over a map, firing onChange like the informer does. */
function mapCache<T extends KubernetesObject>() {
  const items = new Map<string, T>();
  const listeners: ((o: T) => void)[] = [];
  const key = (name: string, ns?: string) => `${ns ?? ""}/${name}`;
  const cache: Cache<T> = {
    synced: Promise.resolve(),
    get: (name, ns) => items.get(key(name, ns)),
    list: (ns) => [...items.values()].filter((o) => ns === undefined || o.metadata?.namespace === ns),
    onChange: (cb) => void listeners.push(cb),
    stop: async () => {},
  };
  return {
    cache,
    put(o: T) {
      items.set(key(o.metadata?.name ?? "", o.metadata?.namespace), o);
      listeners.forEach((l) => l(o));
    },
    remove(o: T) {
      items.delete(key(o.metadata?.name ?? "", o.metadata?.namespace));
      listeners.forEach((l) => l(o));
    },
  };
}

const run = (name: string, phase: string | undefined, volumes: { pvc: string; snapshotId?: string; phase?: string }[] = []): RunObject => ({
  apiVersion: "backup.podwarden.io/v1alpha1",
  kind: "BackupRun",
  metadata: { name, namespace: "shop" },
  spec: { policyRef: { name: "web" } },
  ...(phase === undefined ? {} : { status: { phase, volumes } }),
});

test("runInfoOf keeps the phase and the volumes the grouping reads", () => {
  assert.deepEqual(runInfoOf(run("r", "Running", [{ pvc: "data", snapshotId: "abc", phase: "Succeeded" }, { pvc: "" }])), {
    phase: "Running",
    volumes: [{ pvc: "data", snapshotId: "abc" }],
  });
  assert.deepEqual(runInfoOf(run("r", "Weird")), { volumes: [] });
  assert.deepEqual(runInfoOf(run("r", undefined)), { volumes: [] });
});

test("refresh triggers fire when a run's phase or snapshots change, not otherwise", async () => {
  const runs = mapCache<RunObject>();
  const policies = mapCache<KubernetesObject>();
  const caches = { runs: runs.cache, policies: policies.cache, storage: mapCache<KubernetesObject>().cache } as unknown as KubeCaches;
  const refreshed: string[] = [];
  wireRefreshTriggers(caches, (k) => refreshed.push(k));
  runs.put(run("r1", "Running", [{ pvc: "data" }]));
  runs.put(run("r1", "Running", [{ pvc: "data" }]));
  runs.put(run("r1", "Running", [{ pvc: "data", snapshotId: "s1", phase: "Succeeded" }]));
  runs.put(run("r1", "Succeeded", [{ pvc: "data", snapshotId: "s1", phase: "Succeeded" }]));
  runs.remove(run("r1", "Succeeded"));
  policies.put({ metadata: { name: "db", namespace: "shop" } });
  assert.deepEqual(refreshed, ["shop/web", "shop/web", "shop/web", "shop/web", "shop/db"]);
  runs.put(run("r2", "Failed", [{ pvc: "data" }]));
  const lookup = await cachedRunLookup(runs.cache).runs({ namespace: "shop", name: "web" });
  assert.deepEqual([...lookup.keys()], ["r2"]);
  assert.equal((await cachedRunLookup(runs.cache).runs({ namespace: "shop", name: "other" })).size, 0);
});

test("a StorageConnection's spec change refreshes the policies that use it; status-only updates do not", () => {
  const storage = mapCache<KubernetesObject & { metadata: { generation?: number } }>();
  const policies = mapCache<KubernetesObject & { spec?: { storageRef?: { name?: string } } }>();
  const caches = { runs: mapCache<RunObject>().cache, policies: policies.cache, storage: storage.cache } as unknown as KubeCaches;
  const refreshed: string[] = [];
  wireRefreshTriggers(caches, (k) => refreshed.push(k));
  const policy = (ns: string, name: string, sc: string) => ({ metadata: { namespace: ns, name }, spec: { storageRef: { name: sc } } });
  const sc = (generation: number) => ({ metadata: { name: "nas", generation } });
  policies.put(policy("shop", "web", "nas"));
  policies.put(policy("ops", "db", "s3"));
  refreshed.length = 0;
  storage.put(sc(1));
  storage.put(sc(1));
  storage.put(sc(2));
  storage.remove(sc(2));
  assert.deepEqual(refreshed, ["shop/web", "shop/web", "shop/web"]);
});

test("the run lookup answers only once the BackupRun cache holds its first list", async () => {
  const runs = mapCache<RunObject>();
  let markSynced: () => void = () => {};
  const cache = { ...runs.cache, synced: new Promise<void>((resolve) => (markSynced = resolve)) };
  const answer = cachedRunLookup(cache).runs({ namespace: "shop", name: "web" });
  // The first list arrives after the index asked.
  runs.put(run("r1", "Running", [{ pvc: "data" }]));
  markSynced();
  assert.deepEqual([...(await answer).keys()], ["r1"]);
});

test("a policy refreshes when it appears, changes its spec or goes; status-only updates do not", () => {
  const policies = mapCache<KubernetesObject & { metadata: { generation?: number }; status?: unknown }>();
  const caches = { runs: mapCache<RunObject>().cache, policies: policies.cache, storage: mapCache<KubernetesObject>().cache } as unknown as KubeCaches;
  const refreshed: string[] = [];
  wirePolicyTriggers(caches, (k) => refreshed.push(k));
  const policy = (generation: number, status?: unknown) => ({ metadata: { namespace: "shop", name: "web", generation }, ...(status === undefined ? {} : { status }) });
  const steps: { name: string; act: () => void; refreshes: boolean }[] = [
    { name: "appears", act: () => policies.put(policy(1)), refreshes: true },
    { name: "our own condition written", act: () => policies.put(policy(1, { conditions: [{ type: "SnapshotsAvailable" }] })), refreshes: false },
    { name: "the controller's status", act: () => policies.put(policy(1, { lastRun: "r1" })), refreshes: false },
    { name: "spec changed", act: () => policies.put(policy(2)), refreshes: true },
    { name: "deleted", act: () => policies.remove(policy(2)), refreshes: true },
    { name: "created again", act: () => policies.put(policy(1)), refreshes: true },
  ];
  for (const step of steps) {
    refreshed.length = 0;
    step.act();
    assert.deepEqual(refreshed, step.refreshes ? ["shop/web"] : [], step.name);
  }
});

test("policy/storage triggers and the run trigger can be wired apart", () => {
  const runs = mapCache<RunObject>();
  const policies = mapCache<KubernetesObject>();
  const caches = { runs: runs.cache, policies: policies.cache, storage: mapCache<KubernetesObject>().cache } as unknown as KubeCaches;
  const refreshed: string[] = [];
  wirePolicyTriggers(caches, (k) => refreshed.push(k));
  runs.put(run("r1", "Running", [{ pvc: "data" }]));
  policies.put({ metadata: { name: "db", namespace: "shop" } });
  assert.deepEqual(refreshed, ["shop/db"], "runs are not watched yet");
  wireRunTrigger(caches, (k) => refreshed.push(k));
  runs.put(run("r1", "Succeeded", [{ pvc: "data", snapshotId: "s1" }]));
  assert.deepEqual(refreshed, ["shop/db", "shop/web"]);
});
