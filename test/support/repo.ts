/**
 * Where the repository's own files are, for tests, benchmarks and the sandbox.
 * @module
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));

/** The YAML files directly in a repository folder, e.g. manifests/crds. */
export const yamlIn = (dir: string): string[] =>
  readdirSync(join(REPO, dir))
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => join(REPO, dir, f));
