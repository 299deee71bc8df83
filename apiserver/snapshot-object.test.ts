import { test } from "node:test";
import assert from "node:assert/strict";
import { sortedUnion } from "./snapshot-object.ts";

/** What sortedUnion must give: every string once, in code-unit order. */
const reference = (lists: readonly (readonly string[] | null | undefined)[]): string[] => [...new Set(lists.flatMap((l) => l ?? []))].sort();

test("sortedUnion: sorted, de-duplicated, in code-unit order", async (t) => {
  const many = Array.from({ length: 40 }, (_, i) => `tag-${(i * 17) % 23}`);
  const cases: { name: string; lists: (readonly string[] | null | undefined)[] }[] = [
    { name: "nothing", lists: [] },
    { name: "one empty list", lists: [[]] },
    { name: "null and undefined lists", lists: [null, undefined] },
    { name: "one sorted list", lists: [["a", "b", "c"]] },
    { name: "the product's tags, as written", lists: [["policy=web", "run=web-1", "pvc=data"]] },
    { name: "a short list with repeats", lists: [["b", "a", "b", "a", "c"]] },
    { name: "code units, not locale", lists: [["b", "B", "a", "Z", "é", "e"]] },
    { name: "a long unsorted list", lists: [many] },
    { name: "several lists", lists: [["pvc=logs", "policy=web"], ["pvc=data", "policy=web"], null] },
  ];
  for (const c of cases) {
    await t.test(c.name, () => assert.deepEqual([...sortedUnion(c.lists)], reference(c.lists)));
  }
});

test("sortedUnion: a single list that is already sorted and unique is returned as it is", () => {
  const list = ["a", "b"];
  assert.equal(sortedUnion([list]), list);
});
