/**
 * Fills Node's compile cache (the directory in NODE_COMPILE_CACHE) with every module the servers
 * run: each one's type-stripped source and V8 code cache. The image runs this once at build time
 * (Dockerfile), so that every new pod starts without stripping types and compiling from scratch,
 * in its main thread and in each decode worker (docs/snapshots-cold-start.md).
 *
 *   NODE_COMPILE_CACHE=<dir> node scripts/warm-compile-cache.ts
 *
 * Imports every non-test module of the server directories (nothing but the entry points has
 * side effects on import), loads the decode worker in a worker thread, compiles the servers'
 * entry points in worker threads that stop at their first Kubernetes step, and flushes the cache.
 *
 *   NODE_COMPILE_CACHE=<dir> node scripts/warm-compile-cache.ts --bundle dist
 *
 * does the same for the bundles of scripts/bundle.ts, which the image runs: every chunk, the
 * decode worker and both servers' main.js. Node keys its cache by each file's path, so it is
 * filled where the files are run from.
 * @module
 */
import { readdirSync } from "node:fs";
import { flushCompileCache, getCompileCacheDir } from "node:module";
import { join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { BUNDLES, bundledChunks, bundledEntry } from "./bundle.ts";
import type { BundledPart } from "./bundle.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const DIRS = ["api", "kube", "certs", "restic", "webhook", "apiserver"];
/** Entry points: they start servers or write files when imported. The servers and the decode worker are compiled in workers below. */
const ENTRY_POINTS = new Set(["apiserver/main.ts", "webhook/main.ts", "certs/cli.ts", "api/gen-crds.ts", "restic/decode-worker.ts"]);

function modules(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".test.ts"))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .filter((path) => !ENTRY_POINTS.has(path) && !path.includes("testdata"));
}

/**
 * Compiles a server's entry point (and what it loads before it reaches Kubernetes) without
 * serving: in a worker thread whose kubeconfig does not exist, so the server stops at its first
 * Kubernetes step, having been compiled. The entry point is the one module of a pod's start that
 * would otherwise be type-stripped, and stripping the first module loads the stripper itself.
 */
function compileEntryPoint(path: string): Promise<void> {
  return new Promise((resolve) => {
    const worker = new Worker(pathToFileURL(path), { env: { ...process.env, KUBECONFIG: join(root, "no-such-kubeconfig"), LOG_LEVEL: "silent" }, stdout: true, stderr: true });
    worker.once("error", () => void worker.terminate().then(() => resolve()));
    worker.once("exit", () => resolve());
  });
}

/** Starts a decode worker and waits for its ready message: it compiles its own module graph. */
function loadDecodeWorker(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(pathToFileURL(path));
    worker.once("message", () => void worker.terminate().then(() => resolve(), reject));
    worker.once("error", reject);
  });
}

if (getCompileCacheDir() === undefined) {
  process.stderr.write("warm-compile-cache: set NODE_COMPILE_CACHE to a writable directory\n");
  process.exit(1);
}
/** What to compile, as absolute paths: plain modules, the decode worker, the servers' entry points. */
interface Program {
  readonly modules: readonly string[];
  readonly decodeWorker: string;
  readonly servers: readonly string[];
}

function sources(): Program {
  return {
    modules: DIRS.flatMap(modules).map((path) => join(root, path)),
    decodeWorker: join(root, "restic/decode-worker.ts"),
    servers: ["apiserver/main.ts", "webhook/main.ts"].map((path) => join(root, path)),
  };
}

function bundled(dir: string): Program {
  return {
    modules: (Object.keys(BUNDLES) as BundledPart[]).flatMap((part) => bundledChunks(dir, part)),
    decodeWorker: bundledEntry(dir, "apiserver", "decode-worker"),
    servers: [bundledEntry(dir, "apiserver"), bundledEntry(dir, "webhook")],
  };
}

const at = process.argv.indexOf("--bundle");
const program = at < 0 ? sources() : bundled(resolve(process.argv[at + 1] ?? "dist"));
for (const path of program.modules) await import(pathToFileURL(path).href);
await loadDecodeWorker(program.decodeWorker);
for (const path of program.servers) await compileEntryPoint(path);
flushCompileCache();
process.stderr.write(`warm-compile-cache: ${program.modules.length + 1 + program.servers.length} modules and their dependencies in ${getCompileCacheDir()}\n`);
// Some modules keep timers of their own (an SDK's, a logger's); the cache is written, so stop here.
process.exit(0);
