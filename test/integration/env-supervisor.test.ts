// The harness never leaves processes behind: stop() kills a whole group, and a parent that dies
// in any way (signal, SIGKILL, crash, plain exit) takes its supervised processes with it.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { groupMembers } from "../env/procfs.ts";
import { liveCount, startProcess } from "../env/supervisor.ts";
import { waitFor } from "../env/wait.ts";

const fixture = fileURLToPath(new URL("../env/fixtures/supervised-parent.ts", import.meta.url));

function logHas(path: string, text: string): boolean {
  try {
    return readFileSync(path, "utf8").includes(text);
  } catch {
    return false;
  }
}

describe("supervisor", () => {
  it("stop() kills the process and everything it forked", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-sup-"));
    try {
      const logPath = join(dir, "sh.log");
      const proc = await startProcess({ name: "sh", command: "sh", args: ["-c", "sleep 600 & sleep 600 & echo started; wait"], logPath });
      await waitFor(async () => logHas(logPath, "started"), { what: "sleepers started", timeoutMs: 10_000 });
      assert.equal(groupMembers(proc.pid).length, 3, "sh and two sleeps run in the group");
      const exit = await proc.stop({ graceMs: 2000 });
      assert.equal(exit.signal, "SIGTERM");
      assert.deepEqual(groupMembers(proc.pid), [], "no member of the group is left");
      assert.equal(proc.running(), false);
      assert.equal(liveCount(), 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names the component when its binary is missing", async () => {
    await assert.rejects(
      startProcess({ name: "etcd", command: "/nonexistent/etcd", args: [], logPath: join(tmpdir(), "pw-missing.log") }),
      /etcd: command \/nonexistent\/etcd is missing or not executable/,
    );
  });

  const parentEndings = [
    { name: "parent killed with SIGKILL (reaper cleans up)", mode: "wait", signal: "SIGKILL" },
    { name: "parent killed with SIGTERM", mode: "wait", signal: "SIGTERM" },
    { name: "parent interrupted with SIGINT", mode: "wait", signal: "SIGINT" },
    { name: "parent crashes with an uncaught error", mode: "throw", signal: undefined },
    { name: "parent exits without stopping", mode: "exit", signal: undefined },
  ] as const;
  for (const tc of parentEndings) {
    it(`no orphan when the ${tc.name}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "pw-sup-"));
      const logPath = join(dir, "sleepers.log");
      const parent = spawn(process.execPath, [fixture, tc.mode, logPath], { stdio: ["pipe", "pipe", "pipe"] });
      try {
        const [line] = (await once(parent.stdout, "data")) as [Buffer];
        const { pgid } = JSON.parse(line.toString().split("\n")[0] ?? "{}") as { pgid: number };
        assert.ok(logHas(logPath, "started"), "sleepers started");
        assert.equal(groupMembers(pgid).length, 3, "sh and two sleeps run before the parent ends");
        if (tc.signal) parent.kill(tc.signal);
        else parent.stdin.write("go\n");
        await once(parent, "exit");
        await waitFor(async () => groupMembers(pgid).length === 0, {
          what: `every process of group ${pgid} gone after the ${tc.name}`,
          timeoutMs: 15_000,
        });
      } finally {
        parent.kill("SIGKILL");
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
