/**
 * Bundles each server into a few ES module files, as the image runs them (Dockerfile):
 *
 *   node scripts/bundle.ts [out-dir]      (default: dist)
 *
 * `<out>/apiserver/main.js` (with `decode-worker.js`, the reader's worker thread, beside it) and
 * `<out>/webhook/main.js`. Every dynamic `import()` of the sources stays a separate chunk loaded
 * when it is reached, so the start-up order of apiserver/main.ts is kept. A new process then
 * opens a handful of files instead of a few hundred modules (express alone is about 70), in
 * its main thread and in each decode worker (docs/bundle.md).
 *
 * The output must sit below the project's node_modules: the one module loaded by a run-time
 * require (yaml, for kubeconfig files, never in a pod) is looked up from the bundle's place.
 * @module
 */
import { readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Each server's entry points, by the folder its bundle goes to. */
export const BUNDLES = {
  apiserver: ["apiserver/main.ts", "restic/decode-worker.ts"],
  webhook: ["webhook/main.ts"],
} as const;
export type BundledPart = keyof typeof BUNDLES;

/** Chunk files are named `${CHUNK_PREFIX}<hash>.js`; entries `<name>.js`. */
const CHUNK_PREFIX = "chunk-";

/** CommonJS packages (express and its dependencies) call require for Node's own modules. */
const REQUIRE_BANNER = "import { createRequire as __podwardenRequire } from 'node:module'; const require = __podwardenRequire(import.meta.url);";

/** Writes every server's bundle below `outDir` (emptied first); resolves to `outDir`, absolute. */
export async function bundle(outDir: string = join(root, "dist")): Promise<string> {
  // A build-time tool (a dev dependency): loaded only to build, never where the bundles run.
  const { build } = await import("esbuild");
  const out = resolve(outDir);
  rmSync(out, { recursive: true, force: true });
  for (const [part, entries] of Object.entries(BUNDLES)) {
    await build({
      entryPoints: entries.map((e) => join(root, e)),
      outdir: join(out, part),
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      target: "node24",
      entryNames: "[name]",
      chunkNames: `${CHUNK_PREFIX}[hash]`,
      banner: { js: REQUIRE_BANNER },
      legalComments: "none",
      logLevel: "warning",
    });
  }
  return out;
}

/** The chunk files of a part's bundle below `outDir` (its entries not included). */
export function bundledChunks(outDir: string, part: BundledPart): string[] {
  return readdirSync(join(outDir, part))
    .filter((name) => name.startsWith(CHUNK_PREFIX) && name.endsWith(".js"))
    .map((name) => join(outDir, part, name));
}

/** The entry file of a part's bundle below `outDir`. */
export function bundledEntry(outDir: string, part: BundledPart, name = "main"): string {
  return join(outDir, part, `${name}.js`);
}

if (import.meta.main) {
  const out = await bundle(process.argv[2] === undefined ? undefined : resolve(process.argv[2]));
  process.stderr.write(`bundle: ${Object.keys(BUNDLES).join(", ")} in ${out}\n`);
}
