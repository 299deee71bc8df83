/**
 * Defaulting: pure functions from an object to its defaulted form. The webhook turns the
 * difference into a JSON Patch; applying them twice changes nothing.
 * @module
 */
import type { BackupPolicy, BackupPolicySpec } from "./backuppolicy.ts";
import type { BackupRun } from "./backuprun.ts";
import { PASSWORD_SECRET_PREFIX } from "./group.ts";

export const DEFAULT_SCHEDULE = "0 2 * * *";
export const DEFAULT_RETENTION = { keepLast: 7, keepDaily: 7, keepWeekly: 4 } as const;
export const DEFAULT_POSTGRES_PORT = 5432;
export const DEFAULT_HOOK_TIMEOUT_SECONDS = 300;

export interface DefaultingContext {
  /** The cluster name in repository paths, from the operator's configuration. */
  readonly cluster: string;
  /** A fresh random suffix (lowercase letters and digits) for a new repository. */
  readonly randomSuffix: () => string;
}

/** The name the repository is named after: the workload, or for postgres the database. */
export function repositorySubject(spec: BackupPolicySpec): string | undefined {
  return spec.type === "postgres" ? spec.postgres?.database : spec.workloadRef?.name;
}

/** DNS-1123-safe fragment of a name for the repository path. */
function pathSegment(name: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "");
  return cleaned.slice(0, 40) || "db";
}

/** Mode, hook timeout and postgres port, in place on a copy. */
function defaultSources(out: BackupPolicySpec): void {
  if (out.type === "volume") out.mode ??= "hot";
  const hook = out.preBackupHook;
  if (hook) out.preBackupHook = { ...hook, timeoutSeconds: hook.timeoutSeconds ?? DEFAULT_HOOK_TIMEOUT_SECONDS };
  if (out.postgres) out.postgres = { ...out.postgres, port: out.postgres.port ?? DEFAULT_POSTGRES_PORT };
}

function defaultSpec(spec: BackupPolicySpec, ctx: DefaultingContext, old: BackupPolicySpec | undefined): BackupPolicySpec {
  const out: BackupPolicySpec = { ...spec };
  out.type ??= "volume";
  out.schedule ??= DEFAULT_SCHEDULE;
  out.retention ??= { ...DEFAULT_RETENTION };
  defaultSources(out);
  if (old) {
    // An update that drops the repository (kubectl replace of the original file) keeps it.
    out.repository ??= old.repository;
    return out;
  }
  const subject = repositorySubject(out);
  if (!out.repository && subject) {
    const suffix = ctx.randomSuffix();
    out.repository = {
      path: `backups/${pathSegment(ctx.cluster)}/${pathSegment(subject)}-${suffix}`,
      passwordSecretName: `${PASSWORD_SECRET_PREFIX}${suffix}`,
    };
  }
  return out;
}

/**
 * Defaults a BackupPolicy. The repository is chosen only at creation (no `old`), so an update
 * can never move a policy to a new repository; a user-set repository is kept.
 */
export function defaultBackupPolicy(policy: BackupPolicy, ctx: DefaultingContext, old?: BackupPolicy): BackupPolicy {
  if (!policy.spec || typeof policy.spec !== "object") return policy;
  const oldSpec = old?.spec && typeof old.spec === "object" ? old.spec : undefined;
  return { ...policy, spec: defaultSpec(policy.spec, ctx, old ? (oldSpec ?? {} as BackupPolicySpec) : undefined) };
}

export function defaultBackupRun(run: BackupRun): BackupRun {
  if (!run.spec || typeof run.spec !== "object") return run;
  return { ...run, spec: { ...run.spec, trigger: run.spec.trigger ?? "Manual" } };
}

/** A random suffix: 8 characters of [a-z0-9], from the injected random source. */
export function randomSuffix(randomBytes: (n: number) => Uint8Array): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from(randomBytes(8), (b) => alphabet[b % alphabet.length]).join("");
}
