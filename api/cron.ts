/**
 * Cron schedules: five fields or an @-macro, checked with cron-parser (the parser the
 * scheduler uses), each field on its own so the message names the one that is wrong.
 * @module
 */
import { CronExpressionParser } from "cron-parser";

export const MACROS: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

export const CRON_FIELDS = [
  { name: "minute", accepted: "0-59" },
  { name: "hour", accepted: "0-23" },
  { name: "day-of-month", accepted: "1-31" },
  { name: "month", accepted: "1-12 or JAN-DEC" },
  { name: "day-of-week", accepted: "0-7 or SUN-SAT" },
] as const;

export type CronCheck = { ok: true; expression: string } | { ok: false; detail: string };

const ACCEPTED = `five fields "minute hour day-of-month month day-of-week" (e.g. "0 2 * * *") or one of ${Object.keys(MACROS).join(", ")}`;

function parseError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Expands macros and checks every field; the detail says which field and what it accepts. */
export function checkCron(schedule: string): CronCheck {
  const trimmed = schedule.trim();
  if (trimmed.startsWith("@")) {
    const expanded = MACROS[trimmed.toLowerCase()];
    return expanded ? { ok: true, expression: expanded } : { ok: false, detail: `unknown macro ${JSON.stringify(trimmed)}: expected ${ACCEPTED}` };
  }
  const fields = trimmed.split(/\s+/).filter((f) => f !== "");
  if (fields.length !== 5) {
    return { ok: false, detail: `has ${fields.length} field${fields.length === 1 ? "" : "s"}: expected ${ACCEPTED}` };
  }
  for (const [i, field] of fields.entries()) {
    const probe = CRON_FIELDS.map((_, j) => (j === i ? field : "*")).join(" ");
    try {
      CronExpressionParser.parse(`0 ${probe}`, { tz: "UTC" });
    } catch (err) {
      const spec = CRON_FIELDS[i]!;
      return { ok: false, detail: `${spec.name} field ${JSON.stringify(field)} is invalid (${parseError(err)}): accepted ${spec.accepted}, with * , - /` };
    }
  }
  return { ok: true, expression: fields.join(" ") };
}

/** The next `count` times the schedule fires after `from`, in the given IANA zone. */
export function nextTimes(expression: string, from: Date, count: number, timeZone = "UTC"): Date[] {
  const it = CronExpressionParser.parse(`0 ${expression}`, { tz: timeZone, currentDate: from });
  return Array.from({ length: count }, () => it.next().toDate());
}

/** The shortest gap, in seconds, between consecutive runs over the next `sample` runs. */
export function shortestIntervalSeconds(expression: string, from: Date, sample = 60): number {
  const times = nextTimes(expression, from, sample);
  let min = Number.POSITIVE_INFINITY;
  for (let i = 1; i < times.length; i++) min = Math.min(min, (times[i]!.getTime() - times[i - 1]!.getTime()) / 1000);
  return min;
}

const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/** An IANA zone name ("UTC", "Europe/Berlin"); offsets like "+01:00" are not zone names. */
export function isTimeZone(name: string): boolean {
  if (!ZONE_NAME.test(name)) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
