import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BackupPolicy } from "./backuppolicy.ts";
import type { DefaultingContext } from "./defaults.ts";
import { defaultBackupPolicy, defaultBackupRun, randomSuffix } from "./defaults.ts";

const ctx: DefaultingContext = { cluster: "prod", randomSuffix: () => "x7k2m9qa" };

const volume = (spec: Partial<BackupPolicy["spec"]> = {}): BackupPolicy => ({
  metadata: { name: "pw-backup-app", namespace: "team-a" },
  spec: { workloadRef: { kind: "Deployment", name: "app" }, storageRef: { name: "nas" }, ...spec },
});

describe("defaultBackupPolicy", () => {
  const cases: { name: string; input: BackupPolicy; old?: BackupPolicy; want: Partial<BackupPolicy["spec"]> }[] = [
    {
      name: "a minimal volume policy gets type, mode, schedule, retention and a repository",
      input: volume(),
      want: {
        type: "volume",
        mode: "hot",
        schedule: "0 2 * * *",
        retention: { keepLast: 7, keepDaily: 7, keepWeekly: 4 },
        repository: { path: "backups/prod/app-x7k2m9qa", passwordSecretName: "pw-backup-x7k2m9qa" },
      },
    },
    {
      name: "set values are kept",
      input: volume({ mode: "cold", schedule: "0 * * * *", retention: { keepLast: 3 } }),
      want: { mode: "cold", schedule: "0 * * * *", retention: { keepLast: 3 } },
    },
    {
      name: "a hook gets the default timeout",
      input: volume({ preBackupHook: { command: "sync" } }),
      want: { preBackupHook: { command: "sync", timeoutSeconds: 300 } },
    },
    {
      name: "a hook timeout that is set is kept",
      input: volume({ preBackupHook: { command: "sync", timeoutSeconds: 20 } }),
      want: { preBackupHook: { command: "sync", timeoutSeconds: 20 } },
    },
    {
      name: "a user-set repository adopts an existing repository",
      input: volume({ repository: { path: "backups/old/app-abc", passwordSecretName: "pw-backup-abc" } }),
      want: { repository: { path: "backups/old/app-abc", passwordSecretName: "pw-backup-abc" } },
    },
    {
      name: "postgres: port 5432, repository named after the database, no mode",
      input: {
        metadata: { name: "db", namespace: "team-a" },
        spec: {
          type: "postgres",
          storageRef: { name: "nas" },
          postgres: { host: "db", database: "Orders_DB", user: "u", passwordSecretRef: { name: "s", key: "k" } },
        },
      },
      want: {
        type: "postgres",
        mode: undefined,
        postgres: { host: "db", port: 5432, database: "Orders_DB", user: "u", passwordSecretRef: { name: "s", key: "k" } },
        repository: { path: "backups/prod/orders-db-x7k2m9qa", passwordSecretName: "pw-backup-x7k2m9qa" },
      },
    },
    {
      name: "an update never creates a repository",
      input: volume(),
      old: volume(),
      want: { repository: undefined },
    },
    {
      name: "an update that drops the repository keeps the old one",
      input: volume(),
      old: volume({ repository: { path: "backups/prod/app-1", passwordSecretName: "pw-backup-1" } }),
      want: { repository: { path: "backups/prod/app-1", passwordSecretName: "pw-backup-1" } },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = defaultBackupPolicy(c.input, ctx, c.old).spec;
      for (const [key, value] of Object.entries(c.want)) assert.deepEqual(got[key as keyof typeof got], value, key);
    });
  }

  it("is idempotent", () => {
    const once = defaultBackupPolicy(volume(), ctx);
    assert.deepEqual(defaultBackupPolicy(once, { ...ctx, randomSuffix: () => "other" }), once);
  });

  it("does not modify its input", () => {
    const input = volume();
    const copy = structuredClone(input);
    defaultBackupPolicy(input, ctx);
    assert.deepEqual(input, copy);
  });
});

describe("defaultBackupRun", () => {
  it("a run without a trigger is Manual", () => {
    assert.equal(defaultBackupRun({ spec: { policyRef: { name: "p" } } }).spec.trigger, "Manual");
  });
  it("a scheduled run stays Scheduled", () => {
    assert.equal(defaultBackupRun({ spec: { policyRef: { name: "p" }, trigger: "Scheduled" } }).spec.trigger, "Scheduled");
  });
});

describe("randomSuffix", () => {
  it("is 8 characters of [a-z0-9]", () => {
    assert.match(randomSuffix(() => new Uint8Array([0, 1, 25, 26, 35, 36, 255, 128])), /^[a-z0-9]{8}$/);
  });
});
