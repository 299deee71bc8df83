import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SnapshotFormatError, buildSnapshot, compareSnapshots, freezeBuiltSnapshot, goTime, parseSnapshot, timeKey } from "./snapshot.ts";
import type { ResticSnapshot } from "./snapshot.ts";

const ID = "a".repeat(64);
const TREE = "b".repeat(64);
const base = { time: "2025-03-04T05:06:07.123456789+01:00", tree: TREE, paths: ["/data"] };

describe("parseSnapshot", () => {
  const ok: { name: string; doc: Record<string, unknown>; want: Record<string, unknown> }[] = [
    {
      name: "the minimum: id and short_id added, offset kept",
      doc: base,
      want: { ...base, id: ID, short_id: "aaaaaaaa" },
    },
    {
      name: "omitempty fields dropped as restic prints them",
      doc: { ...base, hostname: "", username: "", uid: 0, gid: 0, tags: [], excludes: [], program_version: "" },
      want: { ...base, id: ID, short_id: "aaaaaaaa" },
    },
    {
      name: "paths absent → null (not omitempty in restic)",
      doc: { time: base.time, tree: TREE },
      want: { time: base.time, tree: TREE, paths: null, id: ID, short_id: "aaaaaaaa" },
    },
    {
      name: "every optional field kept",
      doc: { ...base, parent: "c".repeat(64), hostname: "h", username: "u", uid: 1000, gid: 1000, excludes: ["*.tmp"], tags: ["t"], original: "d".repeat(64), program_version: "restic 0.18.1" },
      want: { ...base, parent: "c".repeat(64), hostname: "h", username: "u", uid: 1000, gid: 1000, excludes: ["*.tmp"], tags: ["t"], original: "d".repeat(64), program_version: "restic 0.18.1", id: ID, short_id: "aaaaaaaa" },
    },
    {
      name: "unknown fields dropped, as Go's decoder ignores them",
      doc: { ...base, future_field: 1 },
      want: { ...base, id: ID, short_id: "aaaaaaaa" },
    },
    {
      name: "a partial summary filled with Go's zero values",
      doc: { ...base, summary: { files_new: 3 } },
      want: {
        ...base,
        summary: {
          backup_start: "0001-01-01T00:00:00Z", backup_end: "0001-01-01T00:00:00Z", files_new: 3, files_changed: 0, files_unmodified: 0,
          dirs_new: 0, dirs_changed: 0, dirs_unmodified: 0, data_blobs: 0, tree_blobs: 0, data_added: 0, data_added_packed: 0,
          total_files_processed: 0, total_bytes_processed: 0,
        },
        id: ID,
        short_id: "aaaaaaaa",
      },
    },
  ];
  for (const c of ok) it(c.name, () => assert.deepEqual(parseSnapshot(ID, c.doc), c.want));

  it("returns a frozen object (cached entries cannot be changed by callers)", () => {
    const s = parseSnapshot(ID, { ...base, tags: ["x"] });
    assert.ok(Object.isFrozen(s) && Object.isFrozen(s.tags));
  });

  describe("buildSnapshot (a worker's) is parseSnapshot unfrozen; freezeBuiltSnapshot freezes it as deeply", () => {
    for (const c of ok) {
      it(c.name, () => {
        const built = buildSnapshot(ID, JSON.parse(JSON.stringify(c.doc)));
        assert.equal(Object.isFrozen(built), false);
        const frozen = freezeBuiltSnapshot(JSON.parse(JSON.stringify(built)) as ResticSnapshot);
        assert.deepEqual(frozen, parseSnapshot(ID, c.doc));
        const nested = [frozen, frozen.paths, frozen.excludes, frozen.tags, frozen.summary].filter((v) => v !== undefined && v !== null);
        assert.ok(nested.every((v) => Object.isFrozen(v)));
      });
    }
  });

  const bad: { name: string; doc: unknown; field: RegExp }[] = [
    { name: "an array", doc: [], field: /object/ },
    { name: "no time", doc: { tree: TREE }, field: /^time/ },
    { name: "an unparseable time", doc: { ...base, time: "yesterday" }, field: /^time/ },
    { name: "no tree", doc: { time: base.time }, field: /^tree/ },
    { name: "an uppercase tree", doc: { ...base, tree: TREE.toUpperCase() }, field: /^tree/ },
    { name: "a short parent", doc: { ...base, parent: "abc" }, field: /^parent/ },
    { name: "paths not a list", doc: { ...base, paths: "/data" }, field: /^paths/ },
    { name: "tags with a number", doc: { ...base, tags: ["a", 1] }, field: /^tags/ },
    { name: "a negative uid", doc: { ...base, uid: -1 }, field: /^uid/ },
    { name: "a gid above uint32", doc: { ...base, gid: 2 ** 32 }, field: /^gid/ },
    { name: "a hostname number", doc: { ...base, hostname: 1 }, field: /^hostname/ },
    { name: "a summary count that is text", doc: { ...base, summary: { files_new: "3" } }, field: /^summary\.files_new/ },
    { name: "a summary that is a list", doc: { ...base, summary: [] }, field: /^summary/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => {
      assert.throws(() => parseSnapshot(ID, c.doc), (err: unknown) => err instanceof SnapshotFormatError && c.field.test(err.message));
    });
  }
});

describe("goTime (times as restic prints them after Go re-encodes them)", () => {
  const cases: [string, string][] = [
    ["2025-03-04T05:06:07.123456789+01:00", "2025-03-04T05:06:07.123456789+01:00"],
    ["2025-03-04T05:06:07.120000000Z", "2025-03-04T05:06:07.12Z"],
    ["2025-03-04T05:06:07.000000000+05:30", "2025-03-04T05:06:07+05:30"],
    ["2025-03-04T05:06:07+00:00", "2025-03-04T05:06:07Z"],
    ["2025-03-04T05:06:07.1234567891Z", "2025-03-04T05:06:07.123456789Z"],
    ["2025-03-04T05:06:07-08:00", "2025-03-04T05:06:07-08:00"],
  ];
  for (const [input, want] of cases) it(`${input} → ${want}`, () => assert.equal(goTime(input), want));
  it("applies to time and the summary times", () => {
    const s = parseSnapshot(ID, { ...base, time: "2025-01-01T00:00:00.500Z", summary: { backup_start: "2025-01-01T00:00:00.000Z" } });
    assert.deepEqual([s.time, s.summary?.backup_start], ["2025-01-01T00:00:00.5Z", "2025-01-01T00:00:00Z"]);
  });
});

describe("ordering", () => {
  const snap = (time: string, id: string): ResticSnapshot => ({ time, tree: TREE, paths: [], id, short_id: id.slice(0, 8) });
  it("keys instants across offsets and below the millisecond", () => {
    const times = ["0001-01-01T00:00:00Z", "1969-12-31T23:59:59.999999999Z", "2025-01-01T00:00:00Z", "2025-01-01T01:00:00.000000001+01:00", "2025-01-01T00:00:00.000000002Z", "2025-01-01T00:00:00.001Z", "9999-12-31T23:59:59.999999999Z"];
    const keys = times.map(timeKey);
    assert.deepEqual([...keys].sort(), keys, "the keys sort as the instants");
    assert.equal(new Set(keys).size, keys.length);
    assert.equal(timeKey("not a time"), "");
  });
  it("sorts oldest first, then by ID", () => {
    const list = [
      snap("2025-01-01T00:00:00.000000002Z", "3".repeat(64)),
      snap("2025-01-01T02:00:00+03:00", "2".repeat(64)),
      snap("2025-01-01T00:00:00.000000001Z", "1".repeat(64)),
      snap("2025-01-01T00:00:00.000000001Z", "0".repeat(64)),
    ];
    assert.deepEqual(list.sort(compareSnapshots).map((s) => s.id[0]), ["2", "0", "1", "3"]);
  });
});
