import { test } from "node:test";
import assert from "node:assert/strict";
import { StatusError } from "./errors.ts";
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from "./selectors.ts";

const labels = { "backup.podwarden.io/policy": "web", "backup.podwarden.io/run": "web-1", tier: "gold", size: "10" };

test("label selectors: full syntax", async (t) => {
  const cases: { sel: string; match: boolean }[] = [
    { sel: "", match: true },
    { sel: "backup.podwarden.io/policy=web", match: true },
    { sel: "backup.podwarden.io/policy==web", match: true },
    { sel: "backup.podwarden.io/policy!=web", match: false },
    { sel: "backup.podwarden.io/policy=db", match: false },
    { sel: "tier in (gold, silver)", match: true },
    { sel: "tier in (silver)", match: false },
    { sel: "tier notin (silver,bronze)", match: true },
    { sel: "missing notin (x)", match: true },
    { sel: "missing!=x", match: true },
    { sel: "tier", match: true },
    { sel: "!tier", match: false },
    { sel: "!missing", match: true },
    { sel: "missing", match: false },
    { sel: "size>9", match: true },
    { sel: "size<9", match: false },
    { sel: "tier=gold,backup.podwarden.io/run=web-1", match: true },
    { sel: "tier=gold, !missing ,size in (10)", match: true },
    { sel: "tier=gold,tier=silver", match: false },
    { sel: "tier in ()", match: false },
    { sel: "tier=", match: false },
  ];
  for (const c of cases) {
    await t.test(c.sel || "(empty)", () => assert.equal(matchesLabels(parseLabelSelector(c.sel), labels), c.match));
  }
});

test("label selectors: errors are 400 BadRequest", async (t) => {
  const cases = ["tier in gold", "tier=a,", "=x", "tier ~ x", "size>abc", "Bad_Prefix/x=1", "tier=bad value!", "a=" + "x".repeat(64), "tier in (a b)"];
  for (const sel of cases) {
    await t.test(sel, () => {
      assert.throws(
        () => parseLabelSelector(sel),
        (err: unknown) => err instanceof StatusError && err.status.code === 400 && err.status.reason === "BadRequest" && /labelSelector/.test(err.status.message ?? ""),
      );
    });
  }
});

test("field selectors on metadata.name and metadata.namespace", async (t) => {
  const meta = { name: "web-1", namespace: "shop" };
  const cases: { sel: string; match: boolean }[] = [
    { sel: "metadata.name=web-1", match: true },
    { sel: "metadata.name==web-1", match: true },
    { sel: "metadata.name!=web-1", match: false },
    { sel: "metadata.namespace=shop,metadata.name=web-1", match: true },
    { sel: "metadata.namespace=other", match: false },
    { sel: "metadata.name=", match: false },
  ];
  for (const c of cases) await t.test(c.sel, () => assert.equal(matchesFields(parseFieldSelector(c.sel), meta), c.match));
  await t.test("escaped separators", () => {
    assert.deepEqual(parseFieldSelector("metadata.name=a\\,b\\=c"), [{ field: "metadata.name", equal: true, value: "a,b=c" }]);
  });
  await t.test("unknown field: the exact Kubernetes message", () => {
    assert.throws(
      () => parseFieldSelector("spec.x=1"),
      (err: unknown) =>
        err instanceof StatusError && err.status.code === 400 && err.status.message === '"spec.x" is not a known field selector: only "metadata.name", "metadata.namespace"',
    );
  });
  await t.test("no operator", () => assert.throws(() => parseFieldSelector("metadata.name"), StatusError));
});
