/**
 * A validation context backed by plain sets, for tests of the pure rules.
 * @module
 */
import type { ValidationContext, Workload } from "./common.ts";

export function fixedContext(opts: {
  storage?: string[];
  policies?: string[];
  workloads?: Record<string, Workload>;
  now?: string;
}): ValidationContext {
  const storage = new Set(opts.storage ?? []);
  const policies = new Set(opts.policies ?? []);
  return {
    storageConnectionExists: (name) => storage.has(name),
    policyExists: (ns, name) => policies.has(`${ns}/${name}`),
    workload: (ns, kind, name) => opts.workloads?.[`${ns}/${kind}/${name}`],
    now: () => new Date(opts.now ?? "2026-03-01T00:00:00Z"),
  };
}
