import { test } from "node:test";
import assert from "node:assert/strict";
import { LABELS } from "../api/group.ts";
import { Snapshot } from "../api/snapshot.ts";
import { groupSnapshots } from "./grouping.ts";
import { kubeTime, kubeTimeOf, phaseOf, stableUid } from "./snapshot-object.ts";
import { hexId, resticSnap } from "./test-fixtures.ts";
import type { RunInfo } from "./types.ts";

const policy = { namespace: "shop", name: "web" };
const run = (phase: RunInfo["phase"], pvcs: string[], extra: Partial<RunInfo> = {}): RunInfo => ({
  ...(phase === undefined ? {} : { phase }),
  volumes: pvcs.map((pvc) => ({ pvc })),
  ...extra,
});

test("phaseOf", async (t) => {
  const cases: { name: string; run: RunInfo | undefined; present: string[]; phase: string; missing: string[] }[] = [
    { name: "no run: complete", run: undefined, present: ["a"], phase: "Complete", missing: [] },
    { name: "succeeded, all present", run: run("Succeeded", ["a", "b"]), present: ["a", "b"], phase: "Complete", missing: [] },
    { name: "succeeded, one missing", run: run("Succeeded", ["a", "b"]), present: ["a"], phase: "Partial", missing: ["b"] },
    { name: "failed, all present", run: run("Failed", ["a"]), present: ["a"], phase: "Complete", missing: [] },
    { name: "failed, none expected", run: run("Failed", []), present: ["a"], phase: "Partial", missing: [] },
    { name: "succeeded, none expected", run: run("Succeeded", []), present: ["a"], phase: "Complete", missing: [] },
    { name: "running", run: run("Running", ["a", "b"]), present: ["a"], phase: "InProgress", missing: ["b"] },
    { name: "pending", run: run("Pending", ["a"]), present: [], phase: "InProgress", missing: ["a"] },
    { name: "no status yet", run: run(undefined, []), present: ["a"], phase: "InProgress", missing: [] },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const got = phaseOf(c.run, new Set(c.present));
      assert.equal(got.phase, c.phase);
      assert.deepEqual(got.missing, c.missing);
    });
  }
});

test("groupSnapshots groups by run tag and names after the run", () => {
  const snaps = [
    resticSnap({ id: hexId("b1"), policy: "web", run: "web-20250102", pvc: "logs", time: "2025-01-02T03:05:00Z", bytes: 2048, files: 3, added: 7 }),
    resticSnap({ id: hexId("a1"), policy: "web", run: "web-20250102", pvc: "data", time: "2025-01-02T03:04:05.5+01:00", bytes: 1024, files: 2, added: 5 }),
    resticSnap({ id: hexId("c0ffee12"), policy: "web", pvc: "data", time: "2024-12-31T00:00:00Z" }),
  ];
  const runs = new Map([["web-20250102", run("Succeeded", ["data", "logs"])]]);
  const out = groupSnapshots({ policy, repositoryId: "r1", snapshots: snaps, runs });
  assert.deepEqual(
    out.map((g) => g.object.metadata.name),
    ["web-20250102", "web-c0ffee12"],
  );
  const [byRun, loose] = out;
  assert.ok(byRun && loose);
  const s = byRun.object;
  assert.equal(Snapshot.safeParse(s).success, true);
  assert.equal(s.status.phase, "Complete");
  assert.deepEqual(s.status.volumes.map((v) => v.pvc), ["data", "logs"]);
  assert.deepEqual(s.status.totals, { volumes: 2, sizeBytes: 3072, files: 5, addedBytes: 12 });
  assert.equal(s.metadata.creationTimestamp, "2025-01-02T02:04:05Z");
  assert.equal(s.status.time, "2025-01-02T03:04:05.5+01:00");
  assert.equal(s.metadata.namespace, "shop");
  assert.deepEqual(s.metadata.labels, { [LABELS.policy]: "web", [LABELS.run]: "web-20250102" });
  assert.deepEqual(s.spec, { policy: "web", run: "web-20250102" });
  assert.deepEqual(byRun.resticIds, [hexId("a1"), hexId("b1")]);
  assert.deepEqual(s.status.paths, ["/data/data", "/data/logs"]);
  assert.deepEqual(s.status.tags, ["policy=web", "pvc=data", "pvc=logs", "run=web-20250102"]);
  assert.equal(loose.object.status.phase, "Complete");
  assert.equal(loose.object.spec.run, undefined);
  assert.deepEqual(loose.object.metadata.labels, { [LABELS.policy]: "web", [LABELS.pvc]: "data" });
});

test("groupSnapshots: statuses and sizes", async (t) => {
  const a = resticSnap({ id: hexId("aa"), run: "r1", pvc: "data", noSummary: true });
  const cases: { name: string; runs: Map<string, RunInfo>; phase: string; size: number; files: number; missing?: string[] }[] = [
    {
      name: "no summary: sizes from the run's status",
      runs: new Map([["r1", { phase: "Succeeded", volumes: [{ pvc: "data", snapshotId: hexId("aa"), bytesTotal: 77, filesNew: 1, filesChanged: 2, filesUnmodified: 3 }] }]]),
      phase: "Complete",
      size: 77,
      files: 6,
    },
    { name: "run still running", runs: new Map([["r1", run("Running", ["data", "logs"])]]), phase: "InProgress", size: 0, files: 0, missing: ["logs"] },
    { name: "run ended without logs", runs: new Map([["r1", run("Failed", ["data", "logs"])]]), phase: "Partial", size: 0, files: 0, missing: ["logs"] },
    { name: "run gone", runs: new Map(), phase: "Complete", size: 0, files: 0 },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const [g] = groupSnapshots({ policy, repositoryId: "r", snapshots: [a], runs: c.runs });
      assert.ok(g);
      assert.equal(g.object.status.phase, c.phase);
      assert.equal(g.object.status.totals.sizeBytes, c.size);
      assert.equal(g.object.status.totals.files, c.files);
      assert.deepEqual(g.object.status.missingVolumes, c.missing);
    });
  }
});

test("groupSnapshots skips other policies' snapshots and treats invalid run tags as none", () => {
  const snaps = [
    resticSnap({ id: hexId("11"), policy: "other", run: "r" }),
    resticSnap({ id: hexId("22"), run: "Not_A_Name" }),
  ];
  const out = groupSnapshots({ policy, repositoryId: "r", snapshots: snaps, runs: new Map() });
  assert.deepEqual(out.map((g) => g.object.metadata.name), ["web-22000000"]);
  assert.equal(out[0]?.object.metadata.labels?.[LABELS.run], undefined);
});

test("UIDs are stable UUIDv5-shaped and differ per repository and run", () => {
  const uid = stableUid("repo/ns/run");
  assert.match(uid, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(uid, "32fca93c-e470-5fb3-beb6-dd73621eb686", "a Snapshot's UID never changes between versions");
  assert.equal(stableUid(`${"long/".repeat(100)}name`), stableUid(`${"long/".repeat(100)}name`));
  assert.notEqual(uid, stableUid("repo2/ns/run"));
  const one = groupSnapshots({ policy, repositoryId: "r", snapshots: [resticSnap({ id: hexId("a"), run: "r1", pvc: "x" })], runs: new Map() });
  const two = groupSnapshots({
    policy,
    repositoryId: "r",
    snapshots: [resticSnap({ id: hexId("a"), run: "r1", pvc: "x" }), resticSnap({ id: hexId("b"), run: "r1", pvc: "y" })],
    runs: new Map(),
  });
  assert.equal(one[0]?.object.metadata.uid, two[0]?.object.metadata.uid, "a run's UID does not change as its volumes arrive");
});

test("kubeTime prints whole seconds in UTC", () => {
  assert.equal(kubeTime(Date.parse("2025-01-02T03:04:05.987Z")), "2025-01-02T03:04:05Z");
});

test("kubeTimeOf a restic time equals kubeTime of its parsed time", async (t) => {
  const times = [
    "2025-01-02T03:04:05Z",
    "2025-01-02T03:04:05.987654321Z",
    "2025-01-02T03:04:05.5+01:00",
    "2025-01-02T00:30:00-02:30",
    "0001-01-01T00:00:00Z",
    "2024-02-29T23:59:59.999999999Z",
  ];
  for (const time of times) await t.test(time, () => assert.equal(kubeTimeOf(time), kubeTime(Date.parse(time))));
});

test("groupSnapshots reuses an earlier group whose inputs are unchanged", async (t) => {
  const a = resticSnap({ id: hexId("a1"), run: "r1", pvc: "data" });
  const b = resticSnap({ id: hexId("b1"), run: "r2", pvc: "data" });
  const runs = new Map([["r1", run("Running", ["data"])]]);
  const before = groupSnapshots({ policy, repositoryId: "r", snapshots: [a, b], runs });
  const previous = new Map(before.map((g) => [g.object.metadata.name ?? "", g]));
  const cases: { name: string; input: Partial<Parameters<typeof groupSnapshots>[0]>; reused: string[] }[] = [
    { name: "same snapshots and runs, in another order", input: { snapshots: [b, a] }, reused: ["r1", "r2"] },
    { name: "a new snapshot builds only its group", input: { snapshots: [a, b, resticSnap({ id: hexId("c1"), run: "r3" })] }, reused: ["r1", "r2"] },
    { name: "a run's status changed", input: { runs: new Map([["r1", run("Succeeded", ["data"])]]) }, reused: ["r2"] },
    { name: "a run appeared for a group", input: { runs: new Map([...runs, ["r2", run("Failed", ["data"])]]) }, reused: ["r1"] },
    { name: "a volume joined a run", input: { snapshots: [a, b, resticSnap({ id: hexId("c2"), run: "r1", pvc: "logs" })] }, reused: ["r2"] },
    { name: "another repository", input: { repositoryId: "r-new" }, reused: [] },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const input = { policy, repositoryId: "r", snapshots: [a, b], runs, ...c.input };
      const out = groupSnapshots({ ...input, previous });
      const fresh = groupSnapshots(input);
      assert.deepEqual(out.map((g) => g.object), fresh.map((g) => g.object), "the same objects as without previous");
      assert.deepEqual(out.filter((g) => previous.get(g.object.metadata.name ?? "") === g).map((g) => g.object.metadata.name), c.reused);
    });
  }
});
