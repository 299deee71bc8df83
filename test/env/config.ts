/**
 * The test harness's only reader of the environment: where the built tools live.
 * Everything else in test/env takes these values as options.
 * @module
 */
import { homedir } from "node:os";
import { join } from "node:path";

/** Paths of the binaries the harness starts; kubectl is looked up on PATH unless given. */
export interface ToolPaths {
  readonly binDir: string;
  readonly kubectl: string;
}

/**
 * The directory `scripts/build-go-tools.sh` links the tools into: `$PW_BIN`, else the same
 * default `scripts/versions.sh` computes (`$PODWARDEN_CACHE` or `$XDG_CACHE_HOME/podwarden`
 * or `~/.cache/podwarden`, then `/bin`).
 */
export function defaultBinDir(): string {
  const env = process.env;
  if (env.PW_BIN) return env.PW_BIN;
  const cache = env.PODWARDEN_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "podwarden");
  return join(cache, "bin");
}

/** Tool paths from the environment: `PW_BIN` (see {@link defaultBinDir}) and `PW_KUBECTL` (default `kubectl`). */
export function toolPathsFromEnv(): ToolPaths {
  return { binDir: defaultBinDir(), kubectl: process.env.PW_KUBECTL ?? "kubectl" };
}

/** A copy of this process's environment, for child processes (kubectl, restic) that need PATH and HOME. */
export function inheritedEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) out[k] = v;
  return out;
}
