import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchCommand, linkMounts, MountPoints, shellQuote, sortMounts, unshareScript } from "./launch.ts";
import type { Mount } from "./volumes.ts";

const m = (source: string, target: string, extra: Partial<Mount> = {}): Mount => ({ source, target, readOnly: false, file: false, ...extra });

describe("shellQuote", () => {
  const cases = [
    { name: "plain", s: "/data", want: "'/data'" },
    { name: "spaces and $", s: "a b$c", want: "'a b$c'" },
    { name: "single quote", s: "it's", want: `'it'\\''s'` },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      assert.equal(shellQuote(tc.s), tc.want);
      assert.equal(spawnSync("sh", ["-c", `printf %s ${shellQuote(tc.s)}`], { encoding: "utf8" }).stdout, tc.s);
    });
  }
});

describe("unshareScript", () => {
  it("mounts parents first, remounts read-only, changes directory, then execs", () => {
    const script = unshareScript([m("/h/sub", "/data/sub", { readOnly: true }), m("/h/data", "/data")], "/data");
    assert.deepEqual(script.split("\n"), [
      "set -e",
      "mount --bind '/h/data' '/data'",
      "mount --bind '/h/sub' '/data/sub'",
      "mount -o remount,bind,ro '/data/sub'",
      "mkdir -p '/data'",
      "cd '/data'",
      'exec "$@"',
    ]);
  });
  it("sortMounts keeps equal depths in order", () => {
    assert.deepEqual(sortMounts([m("a", "/x/y"), m("b", "/p"), m("c", "/q")]).map((x) => x.source), ["b", "c", "a"]);
  });
  it("passes argv as positional arguments, never through the script", () => {
    const { command, args } = launchCommand("unshare", [], undefined, ["sh", "-c", "echo '$1'"]);
    assert.equal(command, "unshare");
    assert.deepEqual(args.slice(-4), ["pw-container", "sh", "-c", "echo '$1'"]);
  });
});

describe("MountPoints", () => {
  it("creates missing directories and files and removes them again when empty", () => {
    const base = mkdtempSync(join(tmpdir(), "pw-mp-"));
    try {
      const mp = new MountPoints();
      mp.ensure(m("/src", join(base, "a/b/c")));
      mp.ensure(m("/src", join(base, "t/termination-log"), { file: true }));
      assert.ok(lstatSync(join(base, "a/b/c")).isDirectory());
      assert.ok(lstatSync(join(base, "t/termination-log")).isFile());
      writeFileSync(join(base, "a/b/keep"), "x");
      mp.cleanup();
      assert.equal(existsSync(join(base, "a/b/c")), false);
      assert.equal(existsSync(join(base, "a/b/keep")), true, "a directory with content stays");
      assert.equal(existsSync(join(base, "t")), false);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
  it("rejects a file where a directory mount is wanted", () => {
    const base = mkdtempSync(join(tmpdir(), "pw-mp-"));
    try {
      writeFileSync(join(base, "f"), "");
      assert.throws(() => new MountPoints().ensure(m("/src", join(base, "f"))), /exists as a file; expected a directory/);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe("linkMounts (fallback without unshare)", () => {
  it("links missing paths, refuses existing ones, and undoes its links", () => {
    const base = mkdtempSync(join(tmpdir(), "pw-ln-"));
    try {
      mkdirSync(join(base, "exists"));
      const undo = linkMounts([m(join(base, "vol"), join(base, "mnt/data"))]);
      assert.equal(readlinkSync(join(base, "mnt/data")), join(base, "vol"));
      undo();
      assert.equal(existsSync(join(base, "mnt/data")), false);
      assert.throws(() => linkMounts([m("/x", join(base, "exists"))]), /exists on the host; without a mount namespace/);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
