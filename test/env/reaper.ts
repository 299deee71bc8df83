/**
 * Last line of defence against orphans: a tiny detached process that reads process-group ids
 * from its stdin (`+<pgid>` registers, `-<pgid>` forgets). When stdin closes — the parent
 * exited, crashed or was SIGKILLed — it terminates every group still registered and exits.
 * Started by `supervisor.ts`; never imported.
 * @module
 */
import { createInterface } from "node:readline";
import { groupAlive } from "./procfs.ts";

const groups = new Set<number>();
const GRACE_MS = 2000;

function signalAll(signal: NodeJS.Signals): void {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, signal);
    } catch {
      groups.delete(pgid);
    }
  }
}

async function reapAll(): Promise<void> {
  signalAll("SIGTERM");
  const deadline = Date.now() + GRACE_MS;
  while (Date.now() < deadline && [...groups].some(groupAlive)) {
    await new Promise((r) => setTimeout(r, 50));
  }
  signalAll("SIGKILL");
  process.exit(0);
}

process.on("SIGINT", () => undefined);
process.on("SIGHUP", () => undefined);
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const pgid = Number(line.slice(1));
  if (!Number.isInteger(pgid) || pgid <= 1) return;
  if (line.startsWith("+")) groups.add(pgid);
  else if (line.startsWith("-")) groups.delete(pgid);
});
lines.on("close", () => void reapAll());
