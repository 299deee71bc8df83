import { test } from "node:test";
import assert from "node:assert/strict";
import type { Snapshot } from "../api/snapshot.ts";
import { groupSnapshots } from "./grouping.ts";
import { viewListJson } from "./list-cache.ts";
import { listJson } from "./render.ts";
import type { Form } from "./render.ts";
import { toTable } from "./table.ts";
import { hexId, resticSnap } from "./test-fixtures.ts";

const DAY = 86_400_000;
const now = Date.parse("2025-01-05T07:04:05Z");
const listMeta = { resourceVersion: "1003", continue: "abc", remainingItemCount: 2 };

/** Nine rows as the index serves them: snapshots of days ago, and one taken just now (row-4), whose AGE changes every second. */
function rows(): { object: Snapshot }[] {
  const snaps = Array.from({ length: 9 }, (_, i) =>
    resticSnap({ id: hexId(`a${i}`), run: `row-${i}`, pvc: i % 2 ? "data" : "logs", extraTags: i === 3 ? ['quote"and\\back', "ünïcode"] : [], time: i === 4 ? "2025-01-05T07:04:00Z" : `2025-01-0${1 + (i % 3)}T03:04:0${i}Z` }),
  );
  const groups = groupSnapshots({ policy: { namespace: "shop", name: "web" }, repositoryId: "r", snapshots: snaps, runs: new Map() });
  return groups.map((g, i) => ({ object: { ...g.object, metadata: { ...g.object.metadata, resourceVersion: String(1000 + i) } } }));
}

test("viewListJson: pages of a view from kept chunks, AGE cells still as of each request", async (t) => {
  const view = rows();
  const items = view.map((r) => r.object);
  const forms: Form[] = [{ kind: "table", version: "v1", include: "Metadata" }, { kind: "table", version: "v1beta1", include: "None" }, { kind: "partial", version: "v1" }, { kind: "json" }];
  const want = (form: Form, slice: readonly Snapshot[], at: number): string => listJson(slice, form, { now: at, listMeta }).toString("utf8");
  for (const form of forms) {
    await t.test(`${form.kind} ${"version" in form ? form.version : ""}`, () => {
      for (const at of [now, now + 1000, now + 1500, now + 3 * DAY, now - 1000]) {
        for (const [start, end] of [[0, 9], [0, 4], [2, 9], [1, 2], [4, 8], [9, 9]] as const) {
          const got = viewListJson({ rows: view, start, end }, form, { now: at, listMeta }, 2).toString("utf8");
          assert.equal(got, want(form, items.slice(start, end), at), `rows [${start}, ${end}) at ${at - now} ms`);
        }
      }
    });
  }
  await t.test("the same request while nothing reads differently: the same body", () => {
    const form = forms[0] as Form;
    const old = view.filter((_, i) => i !== 4);
    const first = viewListJson({ rows: old, start: 0, end: 8 }, form, { now, listMeta }, 2);
    assert.equal(viewListJson({ rows: old, start: 0, end: 8 }, form, { now: now + 500, listMeta }, 2), first);
    const young = viewListJson({ rows: view, start: 0, end: 9 }, form, { now, listMeta }, 2);
    assert.notEqual(viewListJson({ rows: view, start: 0, end: 9 }, form, { now: now + 1000, listMeta }, 2), young, "a 5 s old snapshot's AGE changes each second");
  });
  await t.test("the whole view as JSON.stringify(toTable(…))", () => {
    const got = viewListJson({ rows: view, start: 0, end: 9 }, forms[0] as Form, { now, listMeta }, 2).toString("utf8");
    assert.equal(got, JSON.stringify(toTable(items, { version: "v1", include: "Metadata", now, columns: true, listMeta })));
  });
});
