/**
 * The servers' bundles (scripts/bundle.ts) for a test or bench run: built into a new directory
 * below the project's `.cache/` (git ignores it), where the bundles find node_modules as they do
 * in the image, and removed afterwards.
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundle } from "../../scripts/bundle.ts";

const CACHE = fileURLToPath(new URL("../../.cache/", import.meta.url));

export interface TemporaryBundle {
  /** Holds `apiserver/` and `webhook/` (bundledEntry). */
  readonly dir: string;
  remove(): void;
}

export async function temporaryBundle(): Promise<TemporaryBundle> {
  mkdirSync(CACHE, { recursive: true });
  const dir = await bundle(mkdtempSync(join(CACHE, "bundle-")));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
