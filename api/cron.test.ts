import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkCron, isTimeZone, nextTimes } from "./cron.ts";

describe("checkCron", () => {
  const ok: [string, string][] = [
    ["0 2 * * *", "0 2 * * *"],
    ["0 2 * * 0", "0 2 * * 0"],
    ["*/15 * * * *", "*/15 * * * *"],
    ["0 2 * * MON-FRI", "0 2 * * MON-FRI"],
    ["  0   2 * * * ", "0 2 * * *"],
    ["@daily", "0 0 * * *"],
    ["@HOURLY", "0 * * * *"],
    ["@midnight", "0 0 * * *"],
    ["@weekly", "0 0 * * 0"],
  ];
  for (const [input, expression] of ok) {
    it(`accepts ${JSON.stringify(input)}`, () => assert.deepEqual(checkCron(input), { ok: true, expression, shortestIntervalSeconds: checkCron(expression).ok ? (checkCron(expression) as { shortestIntervalSeconds: number }).shortestIntervalSeconds : -1 }));
  }
  const bad: [string, RegExp][] = [
    ["61 * * * *", /minute field "61" is invalid .*accepted 0-59/],
    ["0 25 * * *", /hour field "25" is invalid .*accepted 0-23/],
    ["0 2 0 * *", /day-of-month field "0" is invalid .*accepted 1-31/],
    ["0 2 * 13 *", /month field "13" is invalid .*accepted 1-12 or JAN-DEC/],
    ["0 2 * * 8", /day-of-week field "8" is invalid .*accepted 0-7 or SUN-SAT/],
    ["0 2 * * FOO", /day-of-week field "FOO" is invalid/],
    ["0 2 * *", /has 4 fields: expected five fields/],
    ["0 0 2 * * *", /has 6 fields: expected five fields/],
    ["", /has 0 fields/],
    ["@every 5m", /unknown macro "@every 5m": expected five fields .* @daily/],
  ];
  for (const [input, message] of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      const got = checkCron(input);
      assert.equal(got.ok, false);
      if (!got.ok) assert.match(got.detail, message);
    });
  }
});

const shortestIntervalSeconds = (expr: string): number => {
  const got = checkCron(expr);
  return got.ok ? got.shortestIntervalSeconds : -1;
};

describe("nextTimes and shortestIntervalSeconds", () => {
  const from = new Date("2026-03-01T00:00:00Z");
  it("lists the next daily runs", () => {
    assert.deepEqual(nextTimes("0 2 * * *", from, 2).map((d) => d.toISOString()), ["2026-03-01T02:00:00.000Z", "2026-03-02T02:00:00.000Z"]);
  });
  it("reads the schedule in the given time zone", () => {
    assert.equal(nextTimes("0 2 * * *", from, 1, "Europe/Berlin")[0]!.toISOString(), "2026-03-01T01:00:00.000Z");
  });
  const intervals: [string, number][] = [
    ["*/2 * * * *", 120],
    ["0 * * * *", 3600],
    ["0,5 * * * *", 300],
    ["58 * * * *", 3600],
    ["0,58 * * * *", 120],
    ["0,58 5,7 * * *", 3480],
    ["0,58 23,0 * * *", 120],
    ["0 2 * * *", 3600],
    ["* * * * *", 60],
  ];
  for (const [expr, seconds] of intervals) {
    it(`${expr} runs at least every ${seconds}s`, () => assert.equal(shortestIntervalSeconds(expr), seconds));
  }
});

describe("isTimeZone", () => {
  const cases: [string, boolean][] = [["UTC", true], ["Europe/Berlin", true], ["America/Argentina/Buenos_Aires", true], ["Mars/Olympus", false], ["", false], ["+01:00", false]];
  for (const [zone, want] of cases) it(`${JSON.stringify(zone)} → ${want}`, () => assert.equal(isTimeZone(zone), want));
});
