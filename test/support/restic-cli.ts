/**
 * The real restic CLI for tests and benchmarks: init, backup with tags, snapshots --json,
 * forget, cat masterkey. Passwords and S3 keys travel in the child's environment, not argv.
 * @module
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ResticSnapshot } from "../../restic/snapshot.ts";
import { defaultBinDir, inheritedEnv } from "../env/config.ts";

export interface ResticCliOptions {
  /** `-r` value: a path or `s3:<endpoint>/<bucket>/<prefix>`. */
  readonly repo: string;
  readonly password: string;
  /** Extra environment (e.g. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, TZ). */
  readonly env?: Readonly<Record<string, string>>;
  /** restic binary (default: `$PW_BIN/restic` when present, else `restic` on PATH). */
  readonly bin?: string;
  /** Run as this user (the snapshot then records uid/gid/username); needs root. */
  readonly asUser?: { readonly uid: number; readonly gid: number };
}

export interface ResticResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** The restic binary the tests use. */
export function resticBin(): string {
  const built = join(defaultBinDir(), "restic");
  return existsSync(built) ? built : "restic";
}

/** Runs `restic -r <repo> --no-cache <args…>`; rejects with stderr and the exit code on failure. */
export function runRestic(opts: ResticCliOptions, args: readonly string[]): Promise<ResticResult> {
  const env: Record<string, string> = { ...inheritedEnv(), ...opts.env, RESTIC_PASSWORD: opts.password };
  delete env.RESTIC_REPOSITORY;
  delete env.RESTIC_PASSWORD_FILE;
  delete env.RESTIC_PASSWORD_COMMAND;
  const bin = opts.bin ?? resticBin();
  const argv = ["-r", opts.repo, "--no-cache", ...args];
  return new Promise((resolve, reject) => {
    execFile(bin, argv, { env, maxBuffer: 512 * 1024 * 1024, uid: opts.asUser?.uid, gid: opts.asUser?.gid }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as { code?: unknown }).code;
        reject(new Error(`restic ${args.join(" ")} failed (exit ${String(code)}): ${stderr.trim()}`, { cause: err }));
        return;
      }
      resolve({ stdout, stderr });
    });
  });
}

/** `restic init --repository-version <v>`. */
export async function resticInit(opts: ResticCliOptions & { readonly version: 1 | 2 }): Promise<void> {
  await runRestic(opts, ["init", "--repository-version", String(opts.version)]);
}

export interface BackupOptions extends ResticCliOptions {
  /** Directory to back up; restic records its absolute path. */
  readonly dir: string;
  readonly tags?: readonly string[];
  readonly host?: string;
  readonly excludes?: readonly string[];
  /** `--time`, e.g. `2025-03-04 05:06:07` (interpreted in the child's TZ). */
  readonly time?: string;
}

/** `restic backup --json`; returns the new snapshot's full ID. */
export async function resticBackup(opts: BackupOptions): Promise<string> {
  const args = ["backup", "--json"];
  for (const t of opts.tags ?? []) args.push("--tag", t);
  for (const e of opts.excludes ?? []) args.push("--exclude", e);
  if (opts.host !== undefined) args.push("--host", opts.host);
  if (opts.time !== undefined) args.push("--time", opts.time);
  args.push(opts.dir);
  const { stdout } = await runRestic(opts, args);
  const summary = stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { message_type?: string; snapshot_id?: string })
    .find((m) => m.message_type === "summary");
  if (summary?.snapshot_id === undefined) throw new Error(`restic backup of ${opts.dir} printed no summary with snapshot_id`);
  return summary.snapshot_id;
}

/** `restic snapshots --json --no-lock`: every snapshot, oldest first. */
export async function resticSnapshots(opts: ResticCliOptions): Promise<Record<string, unknown>[]> {
  const { stdout } = await runRestic(opts, ["snapshots", "--json", "--no-lock"]);
  return JSON.parse(stdout) as Record<string, unknown>[];
}

/** `restic forget <ids…>` (no --prune). */
export async function resticForget(opts: ResticCliOptions, ids: readonly string[]): Promise<void> {
  await runRestic(opts, ["forget", ...ids]);
}

/** `restic cat masterkey`: the repository's master key JSON. */
export async function resticMasterKey(opts: ResticCliOptions): Promise<unknown> {
  const { stdout } = await runRestic(opts, ["cat", "masterkey", "--no-lock"]);
  return JSON.parse(stdout);
}

/** The reader's list equals restic's `snapshots --json`: same snapshots, same order, every field equal. */
export function assertSameAsRestic(ours: readonly ResticSnapshot[], theirs: readonly Record<string, unknown>[]): void {
  assert.deepEqual(ours.map((s) => s.id), theirs.map((s) => s.id), "same snapshots, oldest first");
  for (const [i, want] of theirs.entries()) {
    const got = ours[i] as unknown as Record<string, unknown>;
    const fields = new Set([...Object.keys(want), ...Object.keys(got)]);
    for (const f of fields) assert.deepEqual(got[f], want[f], `snapshot ${String(want.short_id)} field ${f}`);
  }
}
