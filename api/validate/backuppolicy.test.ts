import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BackupPolicy } from "../backuppolicy.ts";
import { formatFieldError } from "../field-errors.ts";
import { validateBackupPolicy } from "./backuppolicy.ts";
import { fixedContext } from "./testing.ts";

const ctx = fixedContext({
  storage: ["nas"],
  workloads: { "team-a/Deployment/app": { replicas: 1 }, "team-a/StatefulSet/big": { replicas: 3 } },
});

const repo = { path: "backups/prod/app-x7k2", passwordSecretName: "pw-backup-x7k2" };
const volume = (spec: Record<string, unknown> = {}): BackupPolicy =>
  ({
    metadata: { name: "pw-backup-app", namespace: "team-a" },
    spec: { type: "volume", mode: "hot", schedule: "0 2 * * *", workloadRef: { kind: "Deployment", name: "app" }, storageRef: { name: "nas" }, retention: { keepLast: 7 }, repository: repo, ...spec },
  }) as BackupPolicy;
const pgSource = { host: "db.example.com", port: 5432, database: "app", user: "backup", passwordSecretRef: { name: "db-pass", key: "password" } };
const postgres = (spec: Record<string, unknown> = {}): BackupPolicy =>
  ({
    metadata: { name: "db", namespace: "team-a" },
    spec: { type: "postgres", schedule: "0 2 * * *", storageRef: { name: "nas" }, postgres: pgSource, retention: { keepDaily: 7 }, repository: repo, ...spec },
  }) as BackupPolicy;

interface Case {
  name: string;
  obj: unknown;
  old?: unknown;
  errors?: string[];
  warnings?: string[];
}

const cases: Case[] = [
  { name: "a valid volume policy", obj: volume() },
  { name: "a valid postgres policy", obj: postgres() },
  { name: "a valid cold policy", obj: volume({ mode: "cold" }) },
  { name: "@daily macro", obj: volume({ schedule: "@daily" }) },
  {
    name: "cron: the wrong field is named",
    obj: volume({ schedule: "0 25 * * *" }),
    errors: ['spec.schedule: Invalid value: "0 25 * * *": hour field "25" is invalid (Constraint error, got value 25 expected range 0-23): accepted 0-23, with * , - /'],
  },
  {
    name: "cron: six fields",
    obj: volume({ schedule: "0 0 2 * * *" }),
    errors: ['spec.schedule: Invalid value: "0 0 2 * * *": has 6 fields: expected five fields "minute hour day-of-month month day-of-week" (e.g. "0 2 * * *") or one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly'],
  },
  {
    name: "time zone must be IANA",
    obj: volume({ timeZone: "Mars/Olympus" }),
    errors: ['spec.timeZone: Invalid value: "Mars/Olympus": must be an IANA time zone name, e.g. "UTC" or "Europe/Berlin"'],
  },
  { name: "a valid time zone", obj: volume({ timeZone: "Europe/Berlin" }) },
  {
    name: "storageRef must exist",
    obj: volume({ storageRef: { name: "missing" } }),
    errors: ['spec.storageRef.name: Not found: "missing": no StorageConnection with this name; create it first (kubectl get storageconnections lists them)'],
  },
  {
    name: "hook only in hot mode",
    obj: volume({ mode: "cold", preBackupHook: { command: "sync", timeoutSeconds: 10 } }),
    errors: ["spec.preBackupHook: Forbidden: only with spec.mode hot: in cold mode the workload is scaled to 0, so there is no pod to run the hook in"],
  },
  {
    name: "hook command must not be empty, timeout bounded",
    obj: volume({ preBackupHook: { command: " ", timeoutSeconds: 0 } }),
    errors: [
      "spec.preBackupHook.command: Required value: the shell command to run, e.g. pg_dumpall -U postgres > /data/dump.sql",
      "spec.preBackupHook.timeoutSeconds: Invalid value: 0: must be between 1 and 86400 seconds",
    ],
  },
  {
    name: "volume policy needs a workloadRef",
    obj: volume({ workloadRef: undefined }),
    errors: ["spec.workloadRef: Required value: a volume policy needs the workload to back up: {kind: Deployment|StatefulSet, name}"],
  },
  {
    name: "workloadRef kind must be Deployment or StatefulSet",
    obj: volume({ workloadRef: { kind: "DaemonSet", name: "app" } }),
    errors: ['spec.workloadRef.kind: Unsupported value: "DaemonSet": supported values: "Deployment", "StatefulSet"'],
  },
  {
    name: "volume policy must not carry postgres",
    obj: volume({ postgres: pgSource }),
    errors: ["spec.postgres: Forbidden: only for spec.type postgres; a volume policy backs up spec.workloadRef"],
  },
  {
    name: "volumes must be PVC names without duplicates",
    obj: volume({ volumes: ["data", "Data_1", "data"] }),
    errors: [
      `spec.volumes[1]: Invalid value: "Data_1": must be a lowercase RFC 1123 name: letters, digits, '-' and '.', starting and ending with a letter or digit`,
      'spec.volumes[2]: Invalid value: "data": duplicate PVC name',
    ],
  },
  {
    name: "postgres needs its connection",
    obj: postgres({ postgres: undefined }),
    errors: ["spec.postgres: Required value: a postgres policy needs {host, database, user, passwordSecretRef: {name, key}}"],
  },
  {
    name: "postgres fields must not be empty",
    obj: postgres({ postgres: { ...pgSource, host: "", database: "", user: "", port: 70000 } }),
    errors: [
      "spec.postgres.host: Required value: must not be empty, e.g. db.example.com",
      "spec.postgres.database: Required value: must not be empty, e.g. app",
      "spec.postgres.user: Required value: must not be empty, e.g. postgres",
      "spec.postgres.port: Invalid value: 70000: must be a TCP port, 1-65535",
    ],
  },
  {
    name: "postgres missing passwordSecretRef",
    obj: postgres({ postgres: { host: "h", database: "d", user: "u" } }),
    errors: ["spec.postgres.passwordSecretRef: Required value: must be set: expected an object"],
  },
  {
    name: "postgres has no workload, hook, volumes or cold mode",
    obj: postgres({ workloadRef: { kind: "Deployment", name: "app" }, preBackupHook: { command: "x" }, volumes: ["a"], mode: "cold" }),
    errors: [
      "spec.workloadRef: Forbidden: a postgres policy backs up a database with pg_dump, not a workload's volumes",
      "spec.volumes: Forbidden: a postgres policy backs up a database with pg_dump, not a workload's volumes",
      "spec.preBackupHook: Forbidden: a postgres policy backs up a database with pg_dump, not a workload's volumes",
      "spec.mode: Forbidden: cold is only for volume policies; a postgres policy backs up a database with pg_dump, not a workload's volumes",
    ],
  },
  {
    name: "retention values must be >= 0",
    obj: volume({ retention: { keepLast: -1, keepDaily: 2 } }),
    errors: ["spec.retention.keepLast: Invalid value: -1: must be 0 or greater"],
  },
  {
    name: "retention needs one rule > 0",
    obj: volume({ retention: { keepLast: 0, keepDaily: 0 } }),
    errors: ['spec.retention: Invalid value: {"keepLast":0,"keepDaily":0}: at least one of keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly must be greater than 0, or every snapshot would be deleted'],
  },
  {
    name: "retention must be an integer",
    obj: volume({ retention: { keepLast: 1.5 } }),
    errors: ["spec.retention.keepLast: Invalid value: 1.5: must be an integer"],
  },
  {
    name: "repository path must be relative and clean",
    obj: volume({ repository: { path: "/abs/../x", passwordSecretName: "pw-backup-x" } }),
    errors: [`spec.repository.path: Invalid value: "/abs/../x": must be a relative path without '.', '..' or empty segments, e.g. backups/prod/app-x7k2`],
  },
  {
    name: "every error at once",
    obj: volume({ schedule: "bad", timeZone: "Nowhere/Land", storageRef: { name: "missing" }, retention: { keepLast: 0 } }),
    errors: [
      'spec.timeZone: Invalid value: "Nowhere/Land": must be an IANA time zone name, e.g. "UTC" or "Europe/Berlin"',
      'spec.schedule: Invalid value: "bad": has 1 field: expected five fields "minute hour day-of-month month day-of-week" (e.g. "0 2 * * *") or one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly',
      'spec.retention: Invalid value: {"keepLast":0}: at least one of keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly must be greater than 0, or every snapshot would be deleted',
      'spec.storageRef.name: Not found: "missing": no StorageConnection with this name; create it first (kubectl get storageconnections lists them)',
    ],
  },
  {
    name: "spec must be present",
    obj: { metadata: { name: "x" } },
    errors: ["spec: Required value: must be set: expected an object"],
  },
  {
    name: "UPDATE: type is immutable",
    obj: postgres(),
    old: volume(),
    errors: ["spec.type: Invalid value: field is immutable: create a new policy to change what is backed up"],
  },
  {
    name: "UPDATE: storageRef and repository are immutable",
    obj: volume({ storageRef: { name: "nas" }, repository: { path: "backups/x/y", passwordSecretName: "pw-backup-y" } }),
    old: volume({ storageRef: { name: "nas" } }),
    errors: ["spec.repository: Invalid value: field is immutable: changing it would lose access to every existing backup"],
  },
  {
    name: "UPDATE: storageRef change",
    obj: volume({ storageRef: { name: "nas" } }),
    old: volume({ storageRef: { name: "other" } }),
    errors: ["spec.storageRef: Invalid value: field is immutable: the repository lives in this storage; create a new policy to move it"],
  },
  { name: "UPDATE: schedule may change", obj: volume({ schedule: "0 3 * * *" }), old: volume() },
  {
    name: "warning: schedule more often than every 5 minutes",
    obj: volume({ schedule: "*/2 * * * *" }),
    warnings: ["spec.schedule: runs every 2 minute(s); backups more often than every 5 minutes may overlap and load the storage"],
  },
  {
    name: "warning: workload does not exist yet",
    obj: volume({ workloadRef: { kind: "Deployment", name: "later" } }),
    warnings: ["spec.workloadRef: Deployment team-a/later does not exist yet; runs fail until it does"],
  },
  {
    name: "warning: cold mode on more than one replica",
    obj: volume({ mode: "cold", workloadRef: { kind: "StatefulSet", name: "big" } }),
    warnings: ["spec.mode: cold scales StatefulSet big from 3 replicas to 0 during each backup"],
  },
];

describe("validateBackupPolicy", () => {
  for (const c of cases) {
    it(c.name, () => {
      const got = validateBackupPolicy(c.obj, c.old, ctx);
      assert.deepEqual(got.errors.map(formatFieldError), c.errors ?? []);
      assert.deepEqual(got.warnings, c.warnings ?? []);
    });
  }
});
