import { test } from "node:test";
import assert from "node:assert/strict";
import { createEventLog } from "./events.ts";
import type { IndexEvent } from "./events.ts";
import { createSnapshotIndex } from "./index.ts";
import { hexId, manualClock, MemoryRuns, MemorySources, resticSnap, silentLog } from "./test-fixtures.ts";

const web = { namespace: "shop", name: "web" };
const db = { namespace: "shop", name: "db" };

function setup() {
  const clock = manualClock();
  const sources = new MemorySources();
  const runs = new MemoryRuns();
  let tick: (() => void) | undefined;
  const index = createSnapshotIndex({
    sources,
    runs,
    clock,
    log: silentLog,
    eventCapacity: 8,
    every: (_ms, fn) => {
      tick = fn;
      return () => (tick = undefined);
    },
  });
  const events: IndexEvent[] = [];
  index.subscribe((e) => events.push(e));
  return { clock, sources, runs, index, events, tick: () => tick?.() };
}

test("event log: monotonic clock-seeded RVs, replay and expiry", () => {
  const clock = manualClock(1000);
  const log = createEventLog({ clock, capacity: 2 });
  const start = log.current();
  assert.equal(start, 1_000_000);
  const object = {} as IndexEvent["object"];
  const rvs = [log.next(), log.next(), log.next()];
  assert.deepEqual(rvs, [start + 1, start + 2, start + 3]);
  for (const rv of rvs) log.append({ type: "ADDED", rv, object });
  assert.equal(log.since(start), "expired", "the first event was evicted");
  assert.deepEqual((log.since(start + 1) as IndexEvent[]).map((e) => e.rv), [start + 2, start + 3]);
  assert.deepEqual(log.since(start + 3), []);
  clock.set(5000);
  assert.equal(log.next(), 5_000_000, "the counter jumps forward with the clock");
  clock.set(10);
  assert.equal(log.next(), 5_000_001, "and never goes back");
});

test("refresh adds, modifies and deletes with one monotonic resourceVersion", async () => {
  const { sources, runs, index, events } = setup();
  sources.set(web, [resticSnap({ id: hexId("a1"), run: "r1", pvc: "data" })]);
  runs.set(web, "r1", { phase: "Running", volumes: [{ pvc: "data" }, { pvc: "logs" }] });
  await index.refreshAll();
  assert.equal(index.ready(), true);
  assert.deepEqual(events.map((e) => [e.type, e.object.metadata.name, e.object.status.phase]), [["ADDED", "r1", "InProgress"]]);
  const rv1 = index.resourceVersion();
  assert.equal(index.get("shop", "r1")?.object.metadata.resourceVersion, String(rv1));

  await index.refresh("shop/web");
  assert.equal(events.length, 1, "an unchanged repository emits nothing");

  sources.set(web, [resticSnap({ id: hexId("a1"), run: "r1", pvc: "data" }), resticSnap({ id: hexId("b1"), run: "r1", pvc: "logs" })]);
  runs.set(web, "r1", { phase: "Succeeded", volumes: [{ pvc: "data" }, { pvc: "logs" }] });
  await index.refresh("shop/web");
  assert.deepEqual(events.map((e) => e.type), ["ADDED", "MODIFIED"]);
  assert.equal(events[1]?.object.status.phase, "Complete");
  assert.equal(events[1]?.prev?.status.phase, "InProgress");
  assert.ok(index.resourceVersion() > rv1);
  assert.equal(events[1]?.object.metadata.uid, events[0]?.object.metadata.uid);

  sources.set(web, []);
  await index.refresh("shop/web");
  assert.deepEqual(events.map((e) => e.type), ["ADDED", "MODIFIED", "DELETED"]);
  assert.equal(index.list().length, 0);
  const rvs = events.map((e) => e.rv);
  assert.deepEqual([...rvs].sort((a, b) => a - b), rvs);
});

test("a refresh builds and announces only what changed", async () => {
  const { sources, runs, index, events } = setup();
  const snaps = [resticSnap({ id: hexId("a1"), run: "r1", pvc: "data" }), resticSnap({ id: hexId("b1"), run: "r2", pvc: "data" })];
  sources.set(web, snaps);
  runs.set(web, "r1", { phase: "Succeeded", volumes: [{ pvc: "data" }] });
  await index.refreshAll();
  const [r1, r2] = index.list("shop").map((row) => row.object);
  assert.equal(events.length, 2);

  // The run's status changes in a field the snapshot does not show (restic's summary wins).
  runs.set(web, "r1", { phase: "Succeeded", volumes: [{ pvc: "data", bytesAdded: 5 }] });
  await index.refresh("shop/web");
  assert.equal(events.length, 2, "same content: no event");
  assert.equal(index.get("shop", "r1")?.object, r1);

  sources.set(web, [...snaps, resticSnap({ id: hexId("c1"), run: "r3", pvc: "data" })]);
  await index.refresh("shop/web");
  assert.deepEqual(events.slice(2).map((e) => [e.type, e.object.metadata.name]), [["ADDED", "r3"]]);
  assert.equal(index.get("shop", "r1")?.object, r1, "unchanged rows keep their objects (and pre-rendered JSON)");
  assert.equal(index.get("shop", "r2")?.object, r2);
});

test("a failing repository keeps its rows and records the problem; others are intact", async () => {
  const { sources, index, events } = setup();
  sources.set(web, [resticSnap({ id: hexId("a1") })]);
  sources.set(db, [resticSnap({ id: hexId("d1") })]);
  await index.refreshAll();
  assert.equal(index.list("shop").length, 2);
  sources.fail(web, "BackendUnreachable", "s3 endpoint http://127.0.0.1:1 refused the connection");
  sources.set(db, [resticSnap({ id: hexId("d1") }), resticSnap({ id: hexId("d2") })]);
  await index.refreshAll();
  assert.deepEqual(index.list("shop").map((s) => s.object.metadata.name), ["db-d1000000", "db-d2000000", "web-a1000000"]);
  assert.deepEqual(index.problems("shop").map((p) => [p.policy?.name, p.reason]), [["web", "BackendUnreachable"]]);
  assert.deepEqual(index.problems("elsewhere"), []);
  assert.equal(events.filter((e) => e.type === "DELETED").length, 0);
  sources.set(web, [resticSnap({ id: hexId("a1") })]);
  await index.refresh("shop/web");
  assert.deepEqual(index.problems(), []);
});

test("a policy that is gone is dropped with DELETED events", async () => {
  const { sources, index, events, tick } = setup();
  sources.set(web, [resticSnap({ id: hexId("a1") })]);
  sources.set(db, [resticSnap({ id: hexId("d1") })]);
  index.start();
  await index.refreshAll();
  sources.remove(web);
  tick();
  await index.refreshAll();
  assert.deepEqual(index.list().map((s) => s.object.metadata.name), ["db-d1000000"]);
  assert.deepEqual(events.filter((e) => e.type === "DELETED").map((e) => e.object.metadata.name), ["web-a1000000"]);
  index.stop();
});

test("run lookup and catalogue failures degrade without dropping rows", async () => {
  const { sources, runs, index } = setup();
  sources.set(web, [resticSnap({ id: hexId("a1") })]);
  await index.refreshAll();
  runs.failure = "connection refused";
  sources.policiesFailure = "the API server is unreachable";
  await index.refreshAll();
  await index.refresh("shop/web");
  assert.equal(index.list().length, 1);
  assert.deepEqual(index.problems().map((p) => p.reason), ["PolicyListFailed", "RunLookupFailed"]);
});

test("concurrent refreshes of one policy coalesce into at most one more listing", async () => {
  const { sources, index } = setup();
  sources.set(web, [resticSnap({ id: hexId("a1") })]);
  let listings = 0;
  const list = sources.list.bind(sources);
  sources.list = async (p) => {
    listings++;
    return list(p);
  };
  await Promise.all([index.refresh("shop/web"), index.refresh("shop/web"), index.refresh("shop/web")]);
  assert.equal(listings, 2);
  await index.refresh("not-a-key");
});

test("delete forgets every restic snapshot, honours preconditions and dryRun", async () => {
  const { sources, runs, index, events } = setup();
  sources.set(web, [resticSnap({ id: hexId("a1"), run: "r1", pvc: "data" }), resticSnap({ id: hexId("b1"), run: "r1", pvc: "logs" }), resticSnap({ id: hexId("c1"), run: "r2", pvc: "data" }), resticSnap({ id: hexId("e1") })]);
  runs.set(web, "r2", { phase: "Running", volumes: [{ pvc: "data" }] });
  await index.refreshAll();
  const s = index.get("shop", "r1")?.object;
  assert.ok(s);
  assert.deepEqual(await index.delete("shop", "nope", { dryRun: false }), { outcome: "NotFound" });
  const bad = await index.delete("shop", "r1", { dryRun: false, preconditions: { uid: "other" } });
  assert.equal(bad.outcome, "Conflict");
  const inProgress = await index.delete("shop", "r2", { dryRun: false });
  assert.equal(inProgress.outcome, "Conflict");
  const dry = await index.delete("shop", "r1", { dryRun: true, preconditions: { uid: s.metadata.uid ?? "", resourceVersion: s.metadata.resourceVersion ?? "" } });
  assert.equal(dry.outcome, "Deleted");
  assert.deepEqual(sources.forgotten, []);
  const done = await index.delete("shop", "r1", { dryRun: false });
  assert.equal(done.outcome, "Deleted");
  assert.deepEqual(sources.forgotten, [hexId("a1"), hexId("b1")]);
  assert.equal(index.get("shop", "r1"), undefined);
  const last = events.at(-1);
  assert.equal(last?.type, "DELETED");
  assert.equal(last?.object.metadata.name, "r1");
  await index.refresh("shop/web");
  assert.equal(index.get("shop", "r1"), undefined);
  sources.forgetFailure = "repository is locked";
  await assert.rejects(index.delete("shop", "web-e1000000", { dryRun: false }), /repository is locked/);
  assert.ok(index.get("shop", "web-e1000000"), "a failed forget keeps the row");
});

test("onListed: told every listing's outcome, not a gone policy's", async () => {
  const sources = new MemorySources();
  const seen: string[] = [];
  const index = createSnapshotIndex({
    sources,
    runs: new MemoryRuns(),
    clock: manualClock(),
    log: silentLog,
    onListed: (e) => seen.push(`${e.policy.name}:${e.problem?.reason ?? "ok"}:${e.unreadable.length}`),
  });
  sources.set(web, [resticSnap({ id: hexId("a1"), policy: "web", run: "web-1", pvc: "data" })], [{ id: hexId("bad"), code: "CorruptFile", message: "bad MAC" }]);
  sources.fail(db, "WrongPassword", "restic repository /db: wrong password");
  await index.refreshAll();
  await index.refresh("shop/web");
  sources.remove(db);
  await index.refresh("shop/db");
  assert.deepEqual(seen.sort(), ["db:WrongPassword:0", "web:ok:1", "web:ok:1"]);
});

test("a first listing stores its Complete groups while it is read, the others at its end", async () => {
  const { sources, runs, index, events } = setup();
  sources.batchSize = 1;
  const seen: string[][] = [];
  sources.betweenBatches = async () => void seen.push(index.list().map((r) => r.object.metadata.name ?? ""));
  sources.set(web, [
    resticSnap({ id: hexId("a1"), run: "r1", pvc: "data" }),
    resticSnap({ id: hexId("c0ffee") }),
    resticSnap({ id: hexId("b1"), run: "r1", pvc: "logs" }),
    resticSnap({ id: hexId("d1"), run: "r2", pvc: "data" }),
  ]);
  runs.set(web, "r1", { phase: "Succeeded", volumes: [{ pvc: "data" }, { pvc: "logs" }] });
  runs.set(web, "r2", { phase: "Succeeded", volumes: [{ pvc: "data" }, { pvc: "logs" }] });
  await index.refreshAll();
  assert.deepEqual(seen, [[], ["web-c0ffee00"], ["r1", "web-c0ffee00"], ["r1", "web-c0ffee00"]], "r1 once both volumes are read; r2 (Partial) only at the end");
  assert.deepEqual(
    index.list().map((r) => [r.object.metadata.name, r.object.status.phase]),
    [["r1", "Complete"], ["r2", "Partial"], ["web-c0ffee00", "Complete"]],
  );
  assert.deepEqual(events.map((e) => [e.type, e.object.metadata.name]), [["ADDED", "web-c0ffee00"], ["ADDED", "r1"], ["ADDED", "r2"]], "nothing is announced twice");
});

test("a first listing read in batches ends with the rows of one read at once", async () => {
  const snaps = Array.from({ length: 40 }, (_, i) => resticSnap({ id: hexId((i + 16).toString(16)), run: `r${i % 13}`, pvc: `p${i % 3}`, time: `2025-01-0${1 + (i % 9)}T00:00:00Z` }));
  const rowsOf = async (batchSize: number | undefined): Promise<unknown[]> => {
    const { sources, runs, index } = setup();
    sources.batchSize = batchSize;
    sources.set(web, snaps);
    for (let r = 0; r < 13; r++) runs.set(web, `r${r}`, { phase: r % 2 === 0 ? "Succeeded" : "Running", volumes: [{ pvc: "p0" }, { pvc: "p1" }, { pvc: "p2" }] });
    await index.refreshAll();
    return index.list().map((row) => ({ ...row.object, metadata: { ...row.object.metadata, resourceVersion: "" } }));
  };
  const whole = await rowsOf(undefined);
  for (const size of [1, 7, 40]) assert.deepEqual(await rowsOf(size), whole, `batches of ${size}`);
});

test("a first listing's batches wait for the policy's BackupRuns", async () => {
  const { sources, runs, index, events } = setup();
  let release: () => void = () => undefined;
  const lookup = runs.runs.bind(runs);
  runs.runs = async (p) => {
    await new Promise<void>((resolve) => (release = resolve));
    return lookup(p);
  };
  sources.batchSize = 1;
  sources.betweenBatches = async () => release();
  sources.set(web, [resticSnap({ id: hexId("a1"), run: "r1", pvc: "data" })]);
  runs.set(web, "r1", { phase: "Running", volumes: [{ pvc: "data" }] });
  await index.refreshAll();
  assert.deepEqual(events.map((e) => [e.type, e.object.status.phase]), [["ADDED", "InProgress"]], "grouped with the run's status, never without it");
});

test("a snapshot deleted through the API while the first listing is read stays deleted", async () => {
  const { sources, index, events } = setup();
  sources.batchSize = 1;
  let deleted = false;
  sources.betweenBatches = async () => {
    if (deleted || index.get("shop", "web-a1000000") === undefined) return;
    deleted = true;
    assert.equal((await index.delete("shop", "web-a1000000", { dryRun: false })).outcome, "Deleted");
  };
  sources.set(web, [resticSnap({ id: hexId("a1") }), resticSnap({ id: hexId("b1") })]);
  await index.refreshAll();
  assert.ok(deleted);
  assert.deepEqual(index.list().map((r) => r.object.metadata.name), ["web-b1000000"]);
  const ofA = events.filter((e) => e.object.metadata.name === "web-a1000000").map((e) => e.type);
  assert.deepEqual(ofA, ["ADDED", "DELETED"], "not added again at the end of the listing");
});
