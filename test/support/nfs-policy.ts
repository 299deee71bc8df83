/**
 * The usual scene of a Snapshot API test: one policy whose repository sits on the env's NFS
 * root, made by real restic with one backup of a small file.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resticBackup, resticInit } from "./restic-cli.ts";
import { backupPolicy, namespace, nfsRepoDir, nfsStorage, secret } from "./snapshot-env.ts";
import type { SnapshotEnv } from "./snapshot-env.ts";

export interface NfsPolicy {
  readonly nfs: { readonly server: string; readonly path: string };
  readonly namespace: string;
  readonly policy: string;
  /** The run tag of the one backup (so the Snapshot's name). */
  readonly run: string;
  readonly repoPath: string;
  readonly passwordSecret: string;
  readonly password: string;
}

/**
 * `restic init` (version 2) and one `restic backup` tagged policy, run and pvc=data, then the
 * namespace, a StorageConnection "nas", the password Secret and the BackupPolicy applied.
 * Resolves to the backup's restic snapshot ID.
 */
export async function seedNfsPolicy(env: SnapshotEnv, p: NfsPolicy): Promise<string> {
  const src = join(env.dir, "volumes", p.policy);
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, "a.txt"), "hello");
  const repo = { repo: nfsRepoDir(env, p.nfs, p.repoPath), password: p.password };
  await resticInit({ ...repo, version: 2 });
  const id = await resticBackup({ ...repo, dir: src, tags: [`policy=${p.policy}`, `run=${p.run}`, "pvc=data"] });
  await env.apply([
    namespace(p.namespace),
    nfsStorage("nas", p.nfs),
    secret(p.namespace, p.passwordSecret, { RESTIC_PASSWORD: p.password }),
    backupPolicy({ namespace: p.namespace, name: p.policy, storage: "nas", repoPath: p.repoPath, passwordSecret: p.passwordSecret }),
  ]);
  return id;
}
