import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SnapshotAnswer } from "../api/index.ts";
import type { Cache, KubernetesObject } from "../kube/informer.ts";
import type { LiveReads, LookupCaches } from "./lookups.ts";
import { createLookups, snapshotFacts, snapshotReadFailure } from "./lookups.ts";
import { review } from "./fixtures.ts";
import { parseReview } from "./review.ts";
import type { AdmissionRequest } from "./review.ts";

/** A cache holding fixed objects (by "ns/name", or "name" when cluster-scoped). */
function fixedCache<T extends KubernetesObject>(objects: T[]): Cache<T> {
  const key = (name: string, ns?: string): string => (ns ? `${ns}/${name}` : name);
  const byKey = new Map(objects.map((o) => [key(o.metadata!.name!, o.metadata!.namespace), o]));
  return { synced: Promise.resolve(), get: (name, ns) => byKey.get(key(name, ns)), list: () => objects, onChange: () => undefined, stop: async () => undefined };
}

const caches: LookupCaches = {
  storage: fixedCache([{ metadata: { name: "nas" } }]),
  policies: fixedCache([{ metadata: { name: "web", namespace: "shop" } }]),
  deployments: fixedCache([]),
  statefulsets: fixedCache([]),
};

function liveReads(over: Partial<LiveReads> = {}): LiveReads & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    storageConnectionExists: async (name) => (calls.push(`sc/${name}`), name === "fresh"),
    policyExists: async (ns, name) => (calls.push(`bp/${ns}/${name}`), name === "fresh"),
    snapshot: async (ns, name): Promise<SnapshotAnswer> => (calls.push(`snap/${ns}/${name}`), { found: false }),
    ...over,
  };
}

const request = (kind: "BackupPolicy" | "BackupRun" | "RestoreRun", spec: Record<string, unknown>, operation: "CREATE" | "UPDATE" = "CREATE"): AdmissionRequest => {
  const parsed = parseReview(review({ kind, operation, namespace: "shop", object: { metadata: { name: "x", namespace: "shop" }, spec } }));
  assert.ok(parsed.ok);
  return parsed.request;
};

describe("createLookups.prepare", () => {
  it("asks nothing live when the cache knows the reference", async () => {
    const live = liveReads();
    const l = createLookups(caches, live, () => new Date());
    assert.deepEqual(await l.prepare(request("BackupPolicy", { storageRef: { name: "nas" } })), {});
    assert.deepEqual(live.calls, []);
  });

  it("confirms a StorageConnection the watch has not delivered yet, for that request", async () => {
    const live = liveReads();
    const l = createLookups(caches, live, () => new Date());
    const overlay = await l.prepare(request("BackupPolicy", { storageRef: { name: "fresh" } }));
    assert.equal(overlay.storageConnectionExists?.("fresh"), true);
    assert.equal(overlay.storageConnectionExists?.("nas"), true);
    assert.equal(l.context.storageConnectionExists("fresh"), false, "the shared context is unchanged");
  });

  it("leaves a reference that does not exist to the cache's no", async () => {
    const l = createLookups(caches, liveReads(), () => new Date());
    assert.deepEqual(await l.prepare(request("BackupRun", { policyRef: { name: "gone" } })), {});
  });

  it("looks references up only on CREATE (they are immutable)", async () => {
    const live = liveReads();
    await createLookups(caches, live, () => new Date()).prepare(request("BackupPolicy", { storageRef: { name: "fresh" } }, "UPDATE"));
    assert.deepEqual(live.calls, []);
  });

  it("reads a RestoreRun's Snapshot live", async () => {
    const answer: SnapshotAnswer = { found: true, snapshot: { policy: "web", phase: "Complete", pvcs: ["data"] } };
    const live = liveReads({ snapshot: async () => answer });
    const overlay = await createLookups(caches, live, () => new Date()).prepare(request("RestoreRun", { policyRef: { name: "web" }, snapshot: "web-1" }));
    assert.deepEqual(overlay.snapshot?.("shop", "web-1"), answer);
  });

  it("without a lookup, a Snapshot is unavailable (fail closed)", () => {
    assert.deepEqual(createLookups(caches, liveReads(), () => new Date()).context.snapshot?.("shop", "x"), { unavailable: "the Snapshot was not looked up" });
  });
});

describe("snapshotReadFailure", () => {
  const cases: { name: string; err: unknown; want: SnapshotAnswer }[] = [
    { name: "the Snapshot is not found", err: { code: 404, body: JSON.stringify({ kind: "Status", reason: "NotFound", details: { name: "web-1", kind: "snapshots" } }) }, want: { found: false } },
    { name: "the group is not registered", err: { code: 404, body: { kind: "Status", message: "the server could not find the requested resource", details: {} } }, want: { unavailable: "the Snapshot API answered 404: the Snapshot API is not registered" } },
    { name: "the API server is down", err: { code: 503, body: "" }, want: { unavailable: "the Snapshot API answered 503" } },
    { name: "a network error", err: new Error("ECONNREFUSED"), want: { unavailable: "the Snapshot API answered Error: ECONNREFUSED" } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(snapshotReadFailure(c.err, "web-1"), c.want));
});

describe("snapshotFacts", () => {
  it("reads policy, phase, PVCs and missing volumes from a Snapshot", () => {
    const obj = { spec: { policy: "web" }, status: { phase: "Partial" as const, volumes: [{ pvc: "data" }, {}], missingVolumes: ["logs"] } };
    assert.deepEqual(snapshotFacts(obj), { policy: "web", phase: "Partial", pvcs: ["data"], missingVolumes: ["logs"] });
  });
});
