/**
 * The timed process of bench/snapshots-reader.ts: a new Node process that imports the reader,
 * opens one local repository (scrypt), lists its snapshots, prints them as JSON (as restic
 * does), lists once more (warm), waits for the disk cache write and prints a report line.
 *
 *   node bench/snapshots-reader-child.ts <repo> [--cache-dir DIR] [--compile-cache DIR] [--concurrency 16]
 *
 * The password comes from PW_BENCH_PASSWORD. Kept small and free of static imports of ours, so
 * the process loads just the reader (after the optional Node compile cache is switched on).
 * @module
 */
import module from "node:module";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    "cache-dir": { type: "string" },
    "compile-cache": { type: "string" },
    concurrency: { type: "string", default: "16" },
  },
});
const repoPath = positionals[0];
if (repoPath === undefined) throw new Error("snapshots-reader-child: the repository path is required as the first argument");
if (values["compile-cache"] !== undefined) {
  module.enableCompileCache(values["compile-cache"]);
  // As a deployment's NODE_COMPILE_CACHE does, reach the reader's decode workers too (a worker
  // takes its environment from process.env; enableCompileCache alone covers this thread only).
  process.env.NODE_COMPILE_CACHE = values["compile-cache"];
}

const t0 = performance.now();
const { openRepository } = await import("../restic/repository.ts");
const { localBackend } = await import("../restic/backend.ts");
const t1 = performance.now();
const cache = values["cache-dir"] === undefined ? {} : { cacheDir: values["cache-dir"] };
const repo = await openRepository({ backend: localBackend(repoPath), password: process.env.PW_BENCH_PASSWORD ?? "", concurrency: Number(values.concurrency), ...cache });
const t2 = performance.now();
const { snapshots, errors } = await repo.listSnapshots();
const t3 = performance.now();
if (errors.length > 0) throw new Error(`snapshots-reader-child: ${errors.length} snapshot files did not load: ${errors[0]?.message}`);
process.stdout.write(`${JSON.stringify(snapshots)}\n`);
const t4 = performance.now();
await repo.listSnapshots();
const t5 = performance.now();
await repo.flushCache();
/** readyMs: from process start until the first listing resolved (before printing and the cache write). */
const report = { importMs: t1 - t0, openMs: t2 - t1, listMs: t3 - t2, readyMs: t3, warmListMs: t5 - t4, count: snapshots.length };
process.stdout.write(`${JSON.stringify(report)}\n`);
