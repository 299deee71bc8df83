/**
 * How a container's process sees its volumes.
 *
 * - `unshare` (preferred, needs root): the process runs in a private mount namespace
 *   (`unshare --mount --propagation private`); a small `sh` prologue bind-mounts each volume
 *   onto its mountPath (read-only when asked), changes to workingDir and `exec`s the command.
 *   Nothing is visible outside the namespace, so pods with the same mountPath do not clash.
 *   Missing mount points are created on the host first (empty directories or files) and
 *   removed again, when still empty, by {@link MountPoints.cleanup} when the agent stops.
 * - `symlink` (fallback when unshare is unavailable): each missing mountPath becomes a
 *   symlink to the volume directory for the life of the container; a mountPath that already
 *   exists on the host cannot be served and fails the container (CreateContainerConfigError).
 *   readOnly is not enforced. Good enough for one pod at a time.
 * @module
 */
import { spawnSync } from "node:child_process";
import { lstatSync, mkdirSync, readdirSync, readlinkSync, rmdirSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname } from "node:path";
import { ContainerConfigError } from "./env.ts";
import type { Mount } from "./volumes.ts";

export const ISOLATIONS = ["unshare", "symlink"] as const;
export type Isolation = (typeof ISOLATIONS)[number];

/** `unshare` when a private mount namespace with bind mounts works here, else `symlink`. */
export function probeIsolation(): Isolation {
  const script = 'mount --bind "$1" "$1"';
  const r = spawnSync("unshare", ["--mount", "--propagation", "private", "--", "sh", "-c", script, "probe", tmpdir()], { stdio: "ignore", timeout: 10_000 });
  return r.status === 0 ? "unshare" : "symlink";
}

/** Single-quotes `s` for sh. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Mount order: parents before children. */
export function sortMounts(mounts: readonly Mount[]): Mount[] {
  const depth = (m: Mount) => m.target.split("/").filter(Boolean).length;
  return [...mounts].sort((a, b) => depth(a) - depth(b));
}

/** The sh prologue run inside the namespace; the command follows as `"$@"`. Pure. */
export function unshareScript(mounts: readonly Mount[], workingDir: string | undefined): string {
  const lines = ["set -e"];
  for (const m of sortMounts(mounts)) {
    lines.push(`mount --bind ${shellQuote(m.source)} ${shellQuote(m.target)}`);
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${shellQuote(m.target)}`);
  }
  if (workingDir) lines.push(`mkdir -p ${shellQuote(workingDir)}`, `cd ${shellQuote(workingDir)}`);
  lines.push(`exec "$@"`);
  return lines.join("\n");
}

/** Command and arguments that start `argv` with `mounts` in place. */
export function launchCommand(isolation: Isolation, mounts: readonly Mount[], workingDir: string | undefined, argv: readonly string[]): { command: string; args: string[] } {
  if (isolation === "unshare") {
    return { command: "unshare", args: ["--mount", "--propagation", "private", "--", "sh", "-c", unshareScript(mounts, workingDir), "pw-container", ...argv] };
  }
  const script = workingDir ? `mkdir -p ${shellQuote(workingDir)} && cd ${shellQuote(workingDir)} && exec "$@"` : `exec "$@"`;
  return { command: "sh", args: ["-c", script, "pw-container", ...argv] };
}

function kindOf(path: string): "dir" | "file" | "link" | "missing" {
  try {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return "link";
    return st.isDirectory() ? "dir" : "file";
  } catch {
    return "missing";
  }
}

/** Mount points this agent created on the host, so they can be removed when it stops. */
export class MountPoints {
  private readonly created = new Set<string>();

  /** Makes sure `m.target` exists with the right type for a bind mount. */
  ensure(m: Mount): void {
    const kind = kindOf(m.target);
    if (kind !== "missing") {
      const isDir = kind === "dir" || (kind === "link" && statSync(m.target).isDirectory());
      if (isDir === m.file) {
        throw new ContainerConfigError(`mountPath ${m.target} exists as a ${isDir ? "directory" : "file"}; expected a ${m.file ? "file" : "directory"} for this mount`);
      }
      return;
    }
    const dir = m.file ? dirname(m.target) : m.target;
    for (let p = dir; kindOf(p) === "missing"; p = dirname(p)) this.created.add(p);
    mkdirSync(dir, { recursive: true });
    if (m.file) {
      writeFileSync(m.target, "", { flag: "a" });
      this.created.add(m.target);
    }
  }

  /** Removes created mount points that are still empty (deepest first); skips anything under /dev. */
  cleanup(): void {
    const paths = [...this.created].sort((a, b) => b.length - a.length);
    for (const p of paths) {
      if (p.startsWith("/dev/")) continue;
      try {
        const kind = kindOf(p);
        if (kind === "file" && statSync(p).size === 0) unlinkSync(p);
        else if (kind === "dir" && readdirSync(p).length === 0) rmdirSync(p);
      } catch {
        // Still in use or already gone: leave it.
      }
      this.created.delete(p);
    }
  }
}

/** Fallback: symlinks at the mount paths; returns a function that removes the ones it made. */
export function linkMounts(mounts: readonly Mount[]): () => void {
  const made: string[] = [];
  const undo = () => made.forEach((p) => unlinkSync(p));
  try {
    for (const m of sortMounts(mounts)) {
      const kind = kindOf(m.target);
      if (kind === "link" && readlinkSync(m.target) === m.source) continue;
      if (kind !== "missing") {
        throw new ContainerConfigError(`mountPath ${m.target} exists on the host; without a mount namespace (unshare unavailable) the node agent can only link missing paths`);
      }
      mkdirSync(dirname(m.target), { recursive: true });
      symlinkSync(m.source, m.target);
      made.push(m.target);
    }
  } catch (err) {
    undo();
    throw err;
  }
  return undo;
}
