/**
 * Linux /proc look-ups for tests of the harness: which live (non-zombie) processes belong to a
 * process group.
 * @module
 */
import { readFileSync, readdirSync } from "node:fs";

interface ProcStat {
  readonly pid: number;
  readonly state: string;
  readonly pgrp: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { pid, state: rest[0] ?? "", pgrp: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

/** Pids of live processes (zombies excluded) whose process group is `pgid`. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat && stat.pgrp === pgid && stat.state !== "Z" && stat.state !== "X") out.push(stat.pid);
  }
  return out;
}

/** True when `pid` exists and is not a zombie. */
export function processAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== "Z" && stat.state !== "X";
}

/**
 * True while the group has a live member. Zombies do not count (an init that never reaps would
 * otherwise keep a dead group "alive"); without /proc, falls back to signal 0.
 */
export function groupAlive(pgid: number): boolean {
  try {
    return groupMembers(pgid).length > 0;
  } catch {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
}
