/**
 * Structured JSON logs. Messages are constant strings; everything variable goes in fields.
 * @module
 */
import { pino } from "pino";
import type { Logger, LevelWithSilent } from "pino";

export type { Logger };

export interface LogOptions {
  readonly name: string;
  readonly level?: LevelWithSilent;
}

/** The one way the product makes a logger; secrets are redacted wherever they appear. */
export function createLogger(opts: LogOptions): Logger {
  return pino({
    name: opts.name,
    level: opts.level ?? "info",
    redact: {
      paths: ["password", "*.password", "secret", "*.secret", "token", "*.token", "*.AWS_SECRET_ACCESS_KEY"],
      censor: "[redacted]",
    },
  });
}
