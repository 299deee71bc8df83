/**
 * BackupPolicy rules. Every rule runs; the result lists every error and every warning.
 * @module
 */
import type { BackupPolicy, BackupPolicySpec } from "../backuppolicy.ts";
import { BackupPolicy as Schema, RETENTION_KEYS } from "../backuppolicy.ts";
import { checkCron, isTimeZone } from "../cron.ts";
import type { FieldError, ValidationResult } from "../field-errors.ts";
import { forbidden, immutable, invalid, notFound, required } from "../field-errors.ts";
import type { ValidationContext } from "./common.ts";
import { nameErrors, structuralErrors } from "./common.ts";

export const MIN_QUIET_INTERVAL_SECONDS = 300;

function scheduleErrors(spec: BackupPolicySpec, warnings: string[]): FieldError[] {
  const errors: FieldError[] = [];
  const zoneOk = spec.timeZone === undefined || isTimeZone(spec.timeZone);
  if (!zoneOk) errors.push(invalid("spec.timeZone", spec.timeZone, 'must be an IANA time zone name, e.g. "UTC" or "Europe/Berlin"'));
  if (spec.schedule === undefined) return errors;
  const cron = checkCron(spec.schedule);
  if (!cron.ok) return [...errors, invalid("spec.schedule", spec.schedule, cron.detail)];
  const every = cron.shortestIntervalSeconds;
  if (every < MIN_QUIET_INTERVAL_SECONDS) {
    warnings.push(`spec.schedule: runs every ${every / 60} minute(s); backups more often than every 5 minutes may overlap and load the storage`);
  }
  return errors;
}

function retentionErrors(spec: BackupPolicySpec): FieldError[] {
  const retention = spec.retention;
  if (!retention) return [];
  const errors: FieldError[] = [];
  for (const key of RETENTION_KEYS) {
    const value = retention[key];
    if (value !== undefined && value < 0) errors.push(invalid(`spec.retention.${key}`, value, "must be 0 or greater"));
  }
  if (!RETENTION_KEYS.some((key) => (retention[key] ?? 0) > 0)) {
    errors.push(invalid("spec.retention", retention, `at least one of ${RETENTION_KEYS.join(", ")} must be greater than 0, or every snapshot would be deleted`));
  }
  return errors;
}

function volumeTypeErrors(policy: BackupPolicy, warnings: string[], ctx: ValidationContext): FieldError[] {
  const spec = policy.spec;
  const errors: FieldError[] = [];
  if (spec.postgres) errors.push(forbidden("spec.postgres", "only for spec.type postgres; a volume policy backs up spec.workloadRef"));
  if (!spec.workloadRef) return [...errors, required("spec.workloadRef", "a volume policy needs the workload to back up: {kind: Deployment|StatefulSet, name}")];
  errors.push(...nameErrors("spec.workloadRef.name", spec.workloadRef.name));
  if (spec.mode === "cold" && spec.preBackupHook) {
    errors.push(forbidden("spec.preBackupHook", "only with spec.mode hot: in cold mode the workload is scaled to 0, so there is no pod to run the hook in"));
  }
  if (spec.preBackupHook) errors.push(...hookErrors(spec));
  const seen = new Set<string>();
  for (const [i, pvc] of (spec.volumes ?? []).entries()) {
    errors.push(...nameErrors(`spec.volumes[${i}]`, pvc));
    if (seen.has(pvc)) errors.push(invalid(`spec.volumes[${i}]`, pvc, "duplicate PVC name"));
    seen.add(pvc);
  }
  workloadWarnings(policy, warnings, ctx);
  return errors;
}

function hookErrors(spec: BackupPolicySpec): FieldError[] {
  const hook = spec.preBackupHook!;
  const errors: FieldError[] = [];
  if (hook.command.trim() === "") errors.push(required("spec.preBackupHook.command", "the shell command to run, e.g. pg_dumpall -U postgres > /data/dump.sql"));
  const timeout = hook.timeoutSeconds;
  if (timeout !== undefined && (timeout < 1 || timeout > 86400)) {
    errors.push(invalid("spec.preBackupHook.timeoutSeconds", timeout, "must be between 1 and 86400 seconds"));
  }
  return errors;
}

function workloadWarnings(policy: BackupPolicy, warnings: string[], ctx: ValidationContext): void {
  const ref = policy.spec.workloadRef!;
  const namespace = policy.metadata?.namespace ?? "";
  const workload = ctx.workload(namespace, ref.kind, ref.name);
  if (!workload) {
    warnings.push(`spec.workloadRef: ${ref.kind} ${namespace}/${ref.name} does not exist yet; runs fail until it does`);
  } else if (policy.spec.mode === "cold" && workload.replicas > 1) {
    warnings.push(`spec.mode: cold scales ${ref.kind} ${ref.name} from ${workload.replicas} replicas to 0 during each backup`);
  }
}

function postgresTypeErrors(spec: BackupPolicySpec): FieldError[] {
  const errors: FieldError[] = [];
  const why = "a postgres policy backs up a database with pg_dump, not a workload's volumes";
  if (spec.workloadRef) errors.push(forbidden("spec.workloadRef", why));
  if (spec.volumes) errors.push(forbidden("spec.volumes", why));
  if (spec.preBackupHook) errors.push(forbidden("spec.preBackupHook", why));
  if (spec.mode === "cold") errors.push(forbidden("spec.mode", `cold is only for volume policies; ${why}`));
  const pg = spec.postgres;
  if (!pg) return [...errors, required("spec.postgres", "a postgres policy needs {host, database, user, passwordSecretRef: {name, key}}")];
  const blank = (field: string, value: string, example: string): void => {
    if (value.trim() === "") errors.push(required(`spec.postgres.${field}`, `must not be empty, e.g. ${example}`));
  };
  blank("host", pg.host, "db.example.com");
  blank("database", pg.database, "app");
  blank("user", pg.user, "postgres");
  blank("passwordSecretRef.key", pg.passwordSecretRef.key, "password");
  errors.push(...nameErrors("spec.postgres.passwordSecretRef.name", pg.passwordSecretRef.name));
  if (pg.port !== undefined && (pg.port < 1 || pg.port > 65535)) errors.push(invalid("spec.postgres.port", pg.port, "must be a TCP port, 1-65535"));
  return errors;
}

function repositoryErrors(spec: BackupPolicySpec): FieldError[] {
  const repo = spec.repository;
  if (!repo) return [];
  const errors = nameErrors("spec.repository.passwordSecretName", repo.passwordSecretName);
  const segments = repo.path.split("/");
  if (repo.path === "" || repo.path.startsWith("/") || segments.some((s) => s === ".." || s === "." || s === "")) {
    errors.push(invalid("spec.repository.path", repo.path, "must be a relative path without '.', '..' or empty segments, e.g. backups/prod/app-x7k2"));
  }
  return errors;
}

function immutabilityErrors(spec: BackupPolicySpec, old: BackupPolicySpec): FieldError[] {
  const errors: FieldError[] = [];
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  if (!same(spec.type ?? "volume", old.type ?? "volume")) errors.push(immutable("spec.type", "field is immutable: create a new policy to change what is backed up"));
  if (!same(spec.storageRef, old.storageRef)) errors.push(immutable("spec.storageRef", "field is immutable: the repository lives in this storage; create a new policy to move it"));
  if (!same(spec.repository, old.repository)) errors.push(immutable("spec.repository", "field is immutable: changing it would lose access to every existing backup"));
  return errors;
}

export function validateBackupPolicy(obj: unknown, old: unknown, ctx: ValidationContext): ValidationResult {
  const structure = structuralErrors(Schema, obj);
  if (structure.length > 0) return { errors: structure, warnings: [] };
  const policy = obj as BackupPolicy;
  const spec = policy.spec;
  const warnings: string[] = [];
  const errors: FieldError[] = [
    ...(spec.type === "postgres" ? postgresTypeErrors(spec) : volumeTypeErrors(policy, warnings, ctx)),
    ...scheduleErrors(spec, warnings),
    ...retentionErrors(spec),
    ...repositoryErrors(spec),
    ...nameErrors("spec.storageRef.name", spec.storageRef.name),
  ];
  const oldSpec = (old as BackupPolicy | undefined)?.spec;
  // storageRef is immutable, so it is looked up at creation only: a policy whose storage was
  // deleted later can still be updated (its finalizers removed, its schedule suspended).
  if (oldSpec) errors.push(...immutabilityErrors(spec, oldSpec));
  else if (spec.storageRef.name && !ctx.storageConnectionExists(spec.storageRef.name)) {
    errors.push(notFound("spec.storageRef.name", spec.storageRef.name, "no StorageConnection with this name; create it first (kubectl get storageconnections lists them)"));
  }
  return { errors, warnings };
}
