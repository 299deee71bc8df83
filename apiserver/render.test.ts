import { test } from "node:test";
import assert from "node:assert/strict";
import { SNAPSHOT_API_VERSION } from "../api/group.ts";
import type { Snapshot } from "../api/snapshot.ts";
import { groupSnapshots } from "./grouping.ts";
import { itemJson, listJson } from "./render.ts";
import type { Form } from "./render.ts";
import { durationStableFor, humanDuration, partialObject, toTable } from "./table.ts";
import { hexId, resticSnap } from "./test-fixtures.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Objects as the index serves them (with a resourceVersion), one with tags that need escaping in JSON. */
function objects(): Snapshot[] {
  const snaps = [
    resticSnap({ id: hexId("a1"), run: "web-1", pvc: "data", time: "2025-01-02T03:04:05Z" }),
    resticSnap({ id: hexId("b1"), run: "web-1", pvc: "logs", bytes: 5 * 1024 ** 3, time: "2025-01-02T03:04:06Z" }),
    resticSnap({ id: hexId("c1"), pvc: "data", extraTags: ['quote"and\\back', "ünïcode"], time: "2025-01-01T00:00:00Z" }),
    resticSnap({ id: hexId("d1"), run: "web-2", time: "2025-01-03T00:00:00Z", noSummary: true }),
  ];
  return groupSnapshots({ policy: { namespace: "shop", name: "web" }, repositoryId: "r", snapshots: snaps, runs: new Map() }).map((g, i) => ({
    ...g.object,
    metadata: { ...g.object.metadata, resourceVersion: String(1000 + i) },
  }));
}

const now = Date.parse("2025-01-05T07:04:05Z");
const listMeta = { resourceVersion: "1003", continue: "abc", remainingItemCount: 2 };

test("bodies are byte for byte JSON.stringify of the same shapes", async (t) => {
  const items = objects();
  const cases: { name: string; form: Form; want: unknown }[] = [
    { name: "SnapshotList", form: { kind: "json" }, want: { kind: "SnapshotList", apiVersion: SNAPSHOT_API_VERSION, metadata: listMeta, items } },
    ...(["v1", "v1beta1"] as const).map((version) => ({
      name: `PartialObjectMetadataList ${version}`,
      form: { kind: "partial", version } as const,
      want: { kind: "PartialObjectMetadataList", apiVersion: `meta.k8s.io/${version}`, metadata: listMeta, items: items.map((s) => partialObject(s, version)) },
    })),
    ...(["Metadata", "Object", "None"] as const).flatMap((include) =>
      (["v1", "v1beta1"] as const).map((version) => ({
        name: `Table ${version} includeObject=${include}`,
        form: { kind: "table", version, include } as const,
        want: toTable(items, { version, include, now, columns: true, listMeta }),
      })),
    ),
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      assert.equal(listJson(items, c.form, { now, listMeta }).toString("utf8"), JSON.stringify(c.want));
      // Kept pieces are reused: a second body is the same.
      assert.equal(listJson(items, c.form, { now, listMeta }).toString("utf8"), JSON.stringify(c.want));
    });
  }
  await t.test("empty list", () => {
    assert.equal(listJson([], { kind: "json" }, { now, listMeta: {} }).toString("utf8"), JSON.stringify({ kind: "SnapshotList", apiVersion: SNAPSHOT_API_VERSION, metadata: {}, items: [] }));
  });
  await t.test("one object (get, watch frames)", () => {
    const [s] = items;
    assert.ok(s);
    const body = { now, columns: false, listMeta: { resourceVersion: "1000" } };
    assert.equal(itemJson(s, { kind: "json" }, body).toString("utf8"), JSON.stringify(s));
    assert.equal(itemJson(s, { kind: "partial", version: "v1" }, body).toString("utf8"), JSON.stringify(partialObject(s, "v1")));
    assert.equal(itemJson(s, { kind: "table", version: "v1", include: "Metadata" }, body).toString("utf8"), JSON.stringify(toTable([s], { version: "v1", include: "Metadata", ...body })));
  });
});

test("AGE is rendered at request time", () => {
  const items = objects();
  const form = { kind: "table", version: "v1", include: "None" } as const;
  for (const at of [now, now + 5 * DAY, now + 400 * DAY]) {
    assert.equal(listJson(items, form, { now: at, listMeta }).toString("utf8"), JSON.stringify(toTable(items, { version: "v1", include: "None", now: at, columns: true, listMeta })));
  }
});

test("durationStableFor: humanDuration reads the same until then", async (t) => {
  const s = 1000;
  const cases: [number, number][] = [
    [-5 * s, 1],
    [500, 1],
    [45 * s + 250, 750],
    [9 * 60 * s + 59 * s, s],
    [15 * 60 * s + 10 * s, 50 * s],
    [7 * HOUR + 59 * 60 * s + 30 * s, 30 * s],
    [30 * HOUR + 60 * s, HOUR - 60 * s],
    [3 * DAY + HOUR + 5 * 60 * s, 55 * 60 * s],
    [400 * DAY + 1, DAY - 1],
  ];
  for (const [age, want] of cases) {
    await t.test(humanDuration(age), () => {
      const stable = durationStableFor(age);
      assert.equal(stable, want);
      assert.equal(humanDuration(age + stable - 1), humanDuration(age));
    });
  }
  await t.test("never too long, over ten years of ages", () => {
    for (let age = 0; age < 3650 * DAY; age += age < 2 * DAY ? 7_919 : 7_919_000) {
      const stable = durationStableFor(age);
      assert.equal(humanDuration(age + stable - 1), humanDuration(age), `age ${age} ms, stable for ${stable} ms`);
    }
  });
});
