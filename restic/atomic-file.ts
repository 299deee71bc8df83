/**
 * Writing a private cache file so that readers see the old file or the new one, never half of
 * one: a temporary file beside it, then a rename; and whether a cache directory holds any file
 * of a kind.
 * @module
 */
import { opendirSync } from "node:fs";
import type { Dir } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Temporary names are unique within the process and repeat after a restart (a container's PID is
 * usually the same), so strays left by a crash between write and rename stay few and get reused.
 */
let tmpCounter = 0;

/** Replaces `path` with `bytes` (directory created mode 0700, file 0600); throws on storage errors. */
export async function writePrivateFile(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}-${++tmpCounter}`;
  try {
    await writeFile(tmp, bytes, { mode: 0o600 });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Whether `dir` holds a file whose name ends with `suffix`; false when it is missing or
 * unreadable. Reads entries only until the first match (it is asked once per repository opened).
 */
export function holdsFileEndingWith(dir: string, suffix: string): boolean {
  let d: Dir | undefined;
  try {
    d = opendirSync(dir);
    for (let e = d.readSync(); e !== null; e = d.readSync()) if (e.name.endsWith(suffix)) return true;
    return false;
  } catch {
    return false;
  } finally {
    d?.closeSync();
  }
}
