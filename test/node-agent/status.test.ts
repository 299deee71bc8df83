import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { capBytes, finalPhase, logTailMessage, podStatus } from "./status.ts";
import type { ContainerRecord, PodRecord } from "./status.ts";

const T = "2026-01-01T00:00:00.000Z";
const done = (name: string, exitCode: number): ContainerRecord => ({
  name,
  image: "i",
  restartCount: 0,
  state: { terminated: { exitCode, reason: exitCode ? "Error" : "Completed", startedAt: T, finishedAt: T } },
});
const running = (name: string): ContainerRecord => ({ name, image: "i", restartCount: 0, state: { running: { startedAt: T } } });
const waiting = (name: string): ContainerRecord => ({ name, image: "i", restartCount: 0, state: { waiting: { reason: "PodInitializing" } } });

describe("capBytes", () => {
  const cases = [
    { name: "short text unchanged", text: "abc", max: 10, fromEnd: false, want: "abc" },
    { name: "cut from the start", text: "abcdef", max: 3, fromEnd: false, want: "abc" },
    { name: "cut from the end", text: "abcdef", max: 3, fromEnd: true, want: "def" },
    { name: "never half a character", text: "ééé", max: 3, fromEnd: false, want: "é" },
  ];
  for (const tc of cases) it(tc.name, () => assert.equal(capBytes(tc.text, tc.max, tc.fromEnd), tc.want));
});

describe("logTailMessage", () => {
  it("keeps the last 80 lines without the trailing newline", () => {
    const log = Array.from({ length: 100 }, (_, i) => `l${i}`).join("\n") + "\n";
    const msg = logTailMessage(log);
    assert.equal(msg.split("\n").length, 80);
    assert.ok(msg.startsWith("l20\n") && msg.endsWith("l99"));
  });
  it("keeps at most 2048 bytes", () => assert.equal(Buffer.byteLength(logTailMessage("x".repeat(5000))), 2048));
});

describe("podStatus", () => {
  const cond = (s: Record<string, unknown>, type: string) => (s.conditions as { type: string; status: string; reason?: string }[]).find((c) => c.type === type);
  const cases: { name: string; rec: PodRecord; want: Record<string, string> }[] = [
    { name: "initializing", rec: { phase: "Pending", startTime: T, init: [running("i")], main: [waiting("m")] }, want: { Initialized: "False", Ready: "False", PodScheduled: "True" } },
    { name: "running", rec: { phase: "Running", startTime: T, init: [done("i", 0)], main: [running("m")] }, want: { Initialized: "True", Ready: "True", ContainersReady: "True" } },
    { name: "succeeded", rec: { phase: "Succeeded", startTime: T, init: [], main: [done("m", 0)] }, want: { Initialized: "True", Ready: "False", ContainersReady: "False" } },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const s = podStatus(tc.rec, T);
      assert.equal(s.phase, tc.rec.phase);
      for (const [type, status] of Object.entries(tc.want)) assert.equal(cond(s, type)?.status, status, type);
    });
  }
  it("terminal pods are not ready because they completed", () => assert.equal(cond(podStatus({ phase: "Failed", startTime: T, init: [], main: [done("m", 1)] }, T), "Ready")?.reason, "PodCompleted"));
});

describe("finalPhase", () => {
  const cases = [
    { name: "all exit 0", main: [done("a", 0), done("b", 0)], want: "Succeeded" },
    { name: "one failed", main: [done("a", 0), done("b", 2)], want: "Failed" },
  ];
  for (const tc of cases) it(tc.name, () => assert.equal(finalPhase({ phase: "Running", startTime: T, init: [], main: tc.main }), tc.want));
});
