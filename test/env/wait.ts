/**
 * Polling with a deadline, and failure reports that carry the components' log tails.
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";

export interface WaitOptions {
  /** What is awaited, for the error message ("kube-apiserver /readyz"). */
  readonly what: string;
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** A promise that settles when waiting is pointless (e.g. the process exited). */
  readonly abort?: Promise<string>;
}

/**
 * Calls `probe` until it returns a value other than `undefined`/`false`, and returns it.
 * Throws after `timeoutMs` (message names `what` and the last probe error) or as soon as
 * `abort` resolves (message names `what` and the abort reason).
 */
export async function waitFor<T>(probe: () => Promise<T | undefined | false>, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let aborted: string | undefined;
  void opts.abort?.then((reason) => (aborted = reason));
  let lastError = "";
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (aborted !== undefined) throw new Error(`${opts.what}: gave up waiting because ${aborted}`);
    if (Date.now() >= deadline) {
      const detail = lastError ? ` (last error: ${lastError})` : "";
      throw new Error(`${opts.what}: not ready after ${opts.timeoutMs} ms${detail}`);
    }
    await sleep(opts.intervalMs ?? 100);
  }
}

/** Something with log files worth showing when a test fails. */
export interface HasLogs {
  logTails(lines?: number): string;
}

/**
 * Runs `fn`; when it throws, appends the log tails of `sources` to the error message so the
 * failure says what the components were doing, then rethrows.
 */
export async function withLogTails<T>(sources: readonly HasLogs[], fn: () => Promise<T>, lines = 30): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const tails = sources.map((s) => s.logTails(lines)).join("\n");
    if (err instanceof Error) {
      err.message = `${err.message}\n--- component logs (last ${lines} lines each) ---\n${tails}`;
      throw err;
    }
    throw new Error(`${String(err)}\n${tails}`, { cause: err });
  }
}
