/**
 * Small helpers for tests that use the harness: temporary directories and tool paths.
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toolPathsFromEnv } from "./config.ts";
import type { ToolPaths } from "./config.ts";

/** A new empty directory under the OS temp dir, and a function that removes it. */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `pw-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Tool locations for tests, read once from the environment (see config.ts). */
export const tools: ToolPaths = toolPathsFromEnv();
