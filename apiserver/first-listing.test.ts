import { test } from "node:test";
import assert from "node:assert/strict";
import { startFirstListing } from "./first-listing.ts";
import type { LogicalSnapshot } from "./grouping.ts";
import { groupSnapshots } from "./grouping.ts";
import { hexId, resticSnap } from "./test-fixtures.ts";
import type { RunInfo } from "./types.ts";

const policy = { namespace: "shop", name: "web" };
const snaps = [
  resticSnap({ id: hexId("a1"), run: "r1", pvc: "data" }),
  resticSnap({ id: hexId("b1"), run: "r1", pvc: "logs" }),
  resticSnap({ id: hexId("c1"), run: "r2", pvc: "data" }),
];
const runs = new Map<string, RunInfo>([
  ["r1", { phase: "Succeeded", volumes: [{ pvc: "data" }, { pvc: "logs" }] }],
  ["r2", { phase: "Running", volumes: [{ pvc: "data" }, { pvc: "logs" }] }],
]);
const names = (groups: readonly LogicalSnapshot[] | undefined): string[] | undefined => groups?.map((g) => g.object.metadata.name ?? "");
const allOf = (got: { all: LogicalSnapshot[] } | undefined): LogicalSnapshot[] | undefined => got?.all;

test("a first listing's groups: those of the whole listing, or undefined when the batches did not cover it", async (t) => {
  const cases: { name: string; batches: { repositoryId: string; from: number; to: number }[]; forgotten?: string[]; result?: { repositoryId: string; count: number }; want: string[] | undefined }[] = [
    { name: "every snapshot told", batches: [{ repositoryId: "R", from: 0, to: 2 }, { repositoryId: "R", from: 2, to: 3 }], want: ["r1", "r2"] },
    { name: "a forgotten snapshot is told but not grouped", batches: [{ repositoryId: "R", from: 0, to: 3 }], forgotten: [hexId("c1")], want: ["r1"] },
    { name: "one batch missing", batches: [{ repositoryId: "R", from: 0, to: 2 }], want: undefined },
    { name: "batches of two repositories", batches: [{ repositoryId: "R", from: 0, to: 2 }, { repositoryId: "S", from: 2, to: 3 }], want: undefined },
    { name: "the result is of another repository", batches: [{ repositoryId: "R", from: 0, to: 3 }], result: { repositoryId: "S", count: 3 }, want: undefined },
    { name: "nothing told", batches: [], want: undefined },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const stored: string[] = [];
      const first = startFirstListing({ policy, forgotten: new Set(c.forgotten ?? []), store: (groups) => stored.push(...(names(groups) ?? [])) });
      first.setRuns(runs);
      for (const b of c.batches) first.onBatch({ repositoryId: b.repositoryId, snapshots: snaps.slice(b.from, b.to) });
      const groups = first.groups(c.result ?? { repositoryId: "R", count: snaps.length }, runs);
      const got = allOf(groups);
      assert.deepEqual(names(got), c.want);
      if (groups !== undefined) assert.deepEqual(names(groups.rest), c.want?.filter((n) => !stored.includes(n)), "rest: the groups not stored yet");
      if (got !== undefined) {
        const whole = groupSnapshots({ policy, repositoryId: "R", snapshots: snaps.filter((s) => !(c.forgotten ?? []).includes(s.id)), runs });
        assert.deepEqual(got.map((g) => g.object), whole.map((g) => g.object));
      }
      assert.ok(stored.every((n) => n !== "r2"), "a group that is not Complete is never stored early");
    });
  }
});

test("batches told before the runs are known are grouped once they are", () => {
  const stored: string[] = [];
  const first = startFirstListing({ policy, forgotten: new Set(), store: (groups) => stored.push(...(names(groups) ?? [])) });
  first.onBatch({ repositoryId: "R", snapshots: snaps });
  assert.deepEqual(stored, []);
  first.setRuns(runs);
  assert.deepEqual(stored, ["r1"]);
  assert.deepEqual(names(allOf(first.groups({ repositoryId: "R", count: 3 }, runs))), ["r1", "r2"]);
  assert.equal(first.groups({ repositoryId: "R", count: 3 }, new Map()), undefined, "other runs than the batches were grouped with");
});
