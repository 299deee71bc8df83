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

export type CronCheck = { ok: true; expression: string; shortestIntervalSeconds: number } | { ok: false; detail: string };

const ACCEPTED = `five fields "minute hour day-of-month month day-of-week" (e.g. "0 2 * * *") or one of ${Object.keys(MACROS).join(", ")}`;

function parseError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Parses once; only a failure is probed field by field, to name the field at fault. */
function check(schedule: string): CronCheck {
  const trimmed = schedule.trim();
  if (trimmed.startsWith("@")) {
    const expanded = MACROS[trimmed.toLowerCase()];
    return expanded ? { ok: true, expression: expanded, shortestIntervalSeconds: intervalOf(expanded) } : { ok: false, detail: `unknown macro ${JSON.stringify(trimmed)}: expected ${ACCEPTED}` };
  }
  const fields = trimmed.split(/\s+/).filter((f) => f !== "");
  if (fields.length !== 5) {
    return { ok: false, detail: `has ${fields.length} field${fields.length === 1 ? "" : "s"}: expected ${ACCEPTED}` };
  }
  try {
    const parsed = CronExpressionParser.parse(`0 ${fields.join(" ")}`);
    return { ok: true, expression: fields.join(" "), shortestIntervalSeconds: shortestGap(parsed.fields) };
  } catch (whole) {
    return { ok: false, detail: fieldAtFault(fields) ?? `is invalid (${parseError(whole)}): expected ${ACCEPTED}` };
  }
}

function fieldAtFault(fields: readonly string[]): string | undefined {
  for (const [i, field] of fields.entries()) {
    const probe = CRON_FIELDS.map((_, j) => (j === i ? field : "*")).join(" ");
    try {
      CronExpressionParser.parse(`0 ${probe}`);
    } catch (err) {
      const spec = CRON_FIELDS[i]!;
      return `${spec.name} field ${JSON.stringify(field)} is invalid (${parseError(err)}): accepted ${spec.accepted}, with * , - /`;
    }
  }
  return undefined;
}

/** Results of pure functions of a string, kept for the strings seen most recently. */
function memo<T>(fn: (key: string) => T, size = 1024): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const value = fn(key);
    if (cache.size >= size) cache.delete(cache.keys().next().value as string);
    cache.set(key, value);
    return value;
  };
}

/** Expands macros and checks every field; the detail says which field and what it accepts. */
export const checkCron: (schedule: string) => CronCheck = memo(check);

/** The next `count` times the schedule fires after `from`, in the given IANA zone. */
export function nextTimes(expression: string, from: Date, count: number, timeZone = "UTC"): Date[] {
  const it = CronExpressionParser.parse(`0 ${expression}`, { tz: timeZone, currentDate: from });
  return Array.from({ length: count }, () => it.next().toDate());
}

type Fields = ReturnType<typeof CronExpressionParser.parse>["fields"];

/**
 * The shortest gap in seconds between two runs, when it is under an hour; 3600 means "an hour
 * or more". Read from the parsed minute and hour sets, not by iterating the schedule.
 */
function shortestGap({ minute, hour }: Fields): number {
  const minutes = [...minute.values].map(Number).sort((a, b) => a - b);
  const hours = new Set([...hour.values].map(Number));
  let gap = 60;
  for (let i = 1; i < minutes.length; i++) gap = Math.min(gap, minutes[i]! - minutes[i - 1]!);
  const nextHourRuns = [...hours].some((h) => hours.has((h + 1) % 24));
  if (nextHourRuns && minutes.length > 0) gap = Math.min(gap, 60 - minutes[minutes.length - 1]! + minutes[0]!);
  return gap * 60;
}

function intervalOf(expression: string): number {
  return shortestGap(CronExpressionParser.parse(`0 ${expression}`).fields);
}

const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/** An IANA zone name ("UTC", "Europe/Berlin"); offsets like "+01:00" are not zone names. */
export const isTimeZone: (name: string) => boolean = memo(zoneCheck);

function zoneCheck(name: string): boolean {
  if (!ZONE_NAME.test(name)) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
