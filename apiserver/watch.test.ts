import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { readFrames, startHarness } from "./app-harness.ts";
import type { Harness } from "./app-harness.ts";
import { hexId, resticSnap } from "./test-fixtures.ts";

const G = "snapshots.backup.podwarden.io";
const NS = `/apis/${G}/v1alpha1/namespaces/shop/snapshots`;
const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
const web = { namespace: "shop", name: "web" };
type Frame = { type: string; object: Record<string, unknown> & { metadata?: Record<string, unknown>; rows?: { cells: unknown[] }[]; columnDefinitions?: unknown[] } };

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());
beforeEach(async () => {
  h.timers.fireAll();
  h.sources.set(web, [resticSnap({ id: hexId("a1"), run: "web-1", pvc: "data" }), resticSnap({ id: hexId("b1"), run: "web-2", pvc: "data" })]);
  h.runs.set(web, "web-3", { phase: "Running", volumes: [{ pvc: "data" }, { pvc: "logs" }] });
  await h.index.refreshAll();
});

const frames = async (res: Response, n: number) => (await readFrames(res, n)) as Frame[];
const nameOf = (f: Frame) => f.object.metadata?.["name"];

test("RV unset: synthetic ADDED for every object, then live events; the stream ends at timeoutSeconds", async () => {
  const res = await h.get(`${NS}?watch=true&timeoutSeconds=30`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(res.headers.get("transfer-encoding"), "chunked");
  const state = { buf: "" };
  const initial = (await readFrames(res, 2, state)) as Frame[];
  assert.deepEqual(initial.map((f) => [f.type, nameOf(f)]), [["ADDED", "web-1"], ["ADDED", "web-2"]]);
  h.sources.set(web, [resticSnap({ id: hexId("a1"), run: "web-1", pvc: "data" }), resticSnap({ id: hexId("c1"), run: "web-3", pvc: "data" })]);
  await h.index.refresh("shop/web");
  const live = (await readFrames(res, 2, state)) as Frame[];
  assert.deepEqual(live.map((f) => [f.type, nameOf(f)]), [["ADDED", "web-3"], ["DELETED", "web-2"]]);
  assert.equal((live[0]?.object["status"] as Record<string, unknown>)["phase"], "InProgress");
  h.runs.set(web, "web-3", { phase: "Failed", volumes: [{ pvc: "data" }, { pvc: "logs" }] });
  await h.index.refresh("shop/web");
  const modified = (await readFrames(res, 1, state)) as Frame[];
  assert.deepEqual(modified.map((f) => [f.type, nameOf(f)]), [["MODIFIED", "web-3"]]);
  assert.equal(h.timers.pending(), 1);
  h.timers.fireAll();
  assert.deepEqual(await readFrames(res, 1, state), [], "the stream ended");
});

test("watch from a resourceVersion replays later events; too old gives an ERROR 410 frame", async () => {
  const list = (await (await h.get(NS)).json()) as { metadata: { resourceVersion: string } };
  h.sources.set(web, [resticSnap({ id: hexId("a1"), run: "web-1", pvc: "data" })]);
  await h.index.refresh("shop/web");
  const res = await h.get(`${NS}?watch=1&resourceVersion=${list.metadata.resourceVersion}`);
  const got = await frames(res, 1);
  assert.deepEqual(got.map((f) => [f.type, nameOf(f)]), [["DELETED", "web-2"]]);
  assert.ok(Number(got[0]?.object.metadata?.["resourceVersion"]) > Number(list.metadata.resourceVersion));
  h.timers.fireAll();
  const old = await h.get(`${NS}?watch=true&resourceVersion=5`);
  assert.equal(old.status, 200);
  const [err] = await frames(old, 2);
  assert.equal(err?.type, "ERROR");
  assert.deepEqual(err?.object, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: `too old resource version: 5 (${h.index.oldestResourceVersion()})`,
    reason: "Expired",
    code: 410,
  });
});

test("Table watch (kubectl get -w): columns in the first event only", async () => {
  const res = await h.get(`${NS}?watch=true&resourceVersion=0`, { headers: { Accept: TABLE } });
  const state = { buf: "" };
  const first = (await readFrames(res, 2, state)) as Frame[];
  assert.equal(first[0]?.object["kind"], "Table");
  assert.equal(first[0]?.object.columnDefinitions?.length, 8);
  assert.deepEqual(first[1]?.object.columnDefinitions, []);
  assert.equal(first[1]?.object.rows?.[0]?.cells[0], "web-2");
  h.sources.set(web, []);
  await h.index.refresh("shop/web");
  const deleted = (await readFrames(res, 2, state)) as Frame[];
  assert.deepEqual(deleted.map((f) => [f.type, f.object.rows?.[0]?.cells[0]]), [["DELETED", "web-1"], ["DELETED", "web-2"]]);
  h.timers.fireAll();
});

test("fieldSelector metadata.name with RV 0 (kubectl get X -w) and metadata-only events", async () => {
  const accept = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
  const res = await h.get(`${NS}?watch=true&resourceVersion=0&fieldSelector=metadata.name%3Dweb-2`, { headers: { Accept: accept } });
  const state = { buf: "" };
  const [added] = (await readFrames(res, 1, state)) as Frame[];
  assert.equal(added?.type, "ADDED");
  assert.equal(added?.object["kind"], "PartialObjectMetadata");
  assert.equal(nameOf(added as Frame), "web-2");
  const del = await h.get(`${NS}/web-2`, { method: "DELETE", body: JSON.stringify({ kind: "DeleteOptions", apiVersion: "v1" }), headers: { "Content-Type": "application/json" } });
  assert.equal(del.status, 200);
  const [gone] = (await readFrames(res, 1, state)) as Frame[];
  assert.equal(gone?.type, "DELETED");
  assert.equal(nameOf(gone as Frame), "web-2");
  h.timers.fireAll();
});

test("a change that leaves the label selector is a DELETED for that watcher", async () => {
  h.sources.set(web, [resticSnap({ id: hexId("a1"), run: "web-1", pvc: "data" })]);
  await h.index.refresh("shop/web");
  const res = await h.get(`${NS}?watch=true&labelSelector=backup.podwarden.io/pvc%3Ddata`);
  const state = { buf: "" };
  assert.deepEqual(((await readFrames(res, 1, state)) as Frame[]).map(nameOf), ["web-1"]);
  h.sources.set(web, [resticSnap({ id: hexId("a1"), run: "web-1", pvc: "data" }), resticSnap({ id: hexId("a2"), run: "web-1", pvc: "logs" })]);
  await h.index.refresh("shop/web");
  const [left] = (await readFrames(res, 1, state)) as Frame[];
  assert.equal(left?.type, "DELETED");
  h.timers.fireAll();
});

test("sendInitialEvents ends the initial events with an annotated BOOKMARK", async () => {
  const res = await h.get(`${NS}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`);
  const got = await frames(res, 3);
  assert.deepEqual(got.map((f) => f.type), ["ADDED", "ADDED", "BOOKMARK"]);
  assert.deepEqual(got[2]?.object, {
    kind: "Snapshot",
    apiVersion: `${G}/v1alpha1`,
    metadata: { resourceVersion: String(h.index.resourceVersion()), annotations: { "k8s.io/initial-events-end": "true" } },
  });
  h.timers.fireAll();
  const bad = await h.get(`${NS}?watch=true&sendInitialEvents=true`);
  assert.equal(bad.status, 400);
});

test("watch errors before streaming are plain Status responses", async (t) => {
  const cases: { q: string; code: number }[] = [
    { q: "resourceVersion=abc", code: 400 },
    { q: "timeoutSeconds=-1", code: 400 },
    { q: "labelSelector=a%20in", code: 400 },
  ];
  for (const c of cases) {
    await t.test(c.q, async () => {
      const r = await h.get(`${NS}?watch=true&${c.q}`);
      assert.equal(r.status, c.code);
      assert.equal(((await r.json()) as Record<string, unknown>)["kind"], "Status");
    });
  }
});
