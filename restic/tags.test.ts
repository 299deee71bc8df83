import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatTags, parseTags } from "./tags.ts";
import type { ParsedTags } from "./tags.ts";

describe("parseTags", () => {
  const cases: { name: string; tags: readonly string[] | null | undefined; want: ParsedTags }[] = [
    { name: "no tags", tags: undefined, want: { other: [] } },
    { name: "null tags", tags: null, want: { other: [] } },
    {
      name: "the product's three tags",
      tags: ["policy=db", "run=db-20250101-0200", "pvc=data-db-0"],
      want: { policy: "db", run: "db-20250101-0200", pvc: "data-db-0", other: [] },
    },
    { name: "foreign tags kept in order", tags: ["manual", "policy=p", "x=y"], want: { policy: "p", other: ["manual", "x=y"] } },
    { name: "a repeated key: first wins", tags: ["run=a", "run=b"], want: { run: "a", other: ["run=b"] } },
    { name: "an empty value is not a key", tags: ["pvc=", "pvc=data"], want: { pvc: "data", other: ["pvc="] } },
    { name: "a value containing =", tags: ["run=a=b"], want: { run: "a=b", other: [] } },
    { name: "a tag starting with =", tags: ["=policy"], want: { other: ["=policy"] } },
    { name: "keys are case-sensitive", tags: ["Policy=x"], want: { other: ["Policy=x"] } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(parseTags(c.tags), c.want));

  it("reads back what formatTags writes", () => {
    const values = { policy: "web", run: "web-1", pvc: "uploads" };
    assert.deepEqual(parseTags(formatTags(values)), { ...values, other: [] });
  });
});
