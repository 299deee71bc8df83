import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { startCache } from "./informer.ts";
import type { KubernetesObject } from "./informer.ts";
import { createLogger } from "./log.ts";
import { KubeApiError } from "./rest.ts";
import type { KubeClient, Query, RequestOptions, WatchEvent } from "./rest.ts";

const log = createLogger({ name: "informer-test", level: "silent" });
const obj = (name: string, rv: string, namespace = "ns"): KubernetesObject => ({ metadata: { name, namespace, resourceVersion: rv } });

type ListStep = { items: KubernetesObject[]; rv: string; continue?: string } | Error;
type WatchStep = WatchEvent<KubernetesObject>[] | Error;

/** A client that answers lists and watches from scripts; an exhausted watch script waits until aborted. */
function scriptedClient(lists: ListStep[], watches: WatchStep[]) {
  const calls: { list: Query[]; watch: Query[] } = { list: [], watch: [] };
  const client: KubeClient = {
    source: "scripted",
    async request<T>(_method: string, _path: string, o: RequestOptions = {}): Promise<T> {
      calls.list.push(o.query ?? {});
      const step = lists.shift();
      if (step === undefined) return new Promise<T>((_resolve, reject) => o.signal?.addEventListener("abort", () => reject(new Error("aborted"))));
      if (step instanceof Error) throw step;
      return { items: step.items, metadata: { resourceVersion: step.rv, ...(step.continue ? { continue: step.continue } : {}) } } as T;
    },
    async watch<T>(_path: string, query: Query, onEvent: (e: WatchEvent<T>) => void, signal?: AbortSignal): Promise<void> {
      calls.watch.push(query);
      const step = watches.shift();
      if (step instanceof Error) throw step;
      if (step === undefined) return new Promise<void>((resolve) => signal?.addEventListener("abort", () => resolve()));
      for (const e of step) {
        try {
          onEvent(e as WatchEvent<T>);
        } catch {
          return;
        }
      }
    },
    close: () => undefined,
  };
  return { client, calls };
}

const names = (c: { list(): KubernetesObject[] }): string[] => c.list().map((o) => o.metadata?.name ?? "").sort();
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

describe("startCache", () => {
  it("lists every page before it is synced, then follows the watch from the list's resourceVersion", async () => {
    const { client, calls } = scriptedClient(
      [
        { items: [obj("a", "1")], rv: "", continue: "next" },
        { items: [obj("b", "2", "other")], rv: "10" },
      ],
      [[{ type: "ADDED", object: obj("c", "11") }, { type: "MODIFIED", object: obj("a", "12") }, { type: "DELETED", object: obj("b", "13", "other") }, { type: "BOOKMARK", object: obj("", "14") }]],
    );
    const cache = startCache(client, { path: "/x" }, log, { pageSize: 1 });
    await cache.synced;
    assert.deepEqual(names(cache), ["a", "b"]);
    assert.deepEqual(calls.list, [{ limit: 1 }, { limit: 1, continue: "next" }]);
    const seen: string[] = [];
    cache.onChange((o) => seen.push(`${o.metadata?.name}@${o.metadata?.resourceVersion}`));
    await settle();
    assert.deepEqual(seen, ["c@11", "a@12", "b@13"]);
    assert.deepEqual(names(cache), ["a", "c"]);
    assert.deepEqual(cache.list("other"), []);
    assert.equal(cache.get("a", "ns")?.metadata?.resourceVersion, "12");
    assert.deepEqual(calls.watch.map((q) => q.resourceVersion), ["10", "14"], "the ended watch resumed from the bookmark's resourceVersion");
    assert.equal(calls.watch[0]?.allowWatchBookmarks, true);
    await cache.stop();
  });

  const gone: { name: string; watch: WatchStep }[] = [
    { name: "an ERROR frame with code 410", watch: [{ type: "ERROR", object: { code: 410, message: "too old" } as KubernetesObject }] },
    { name: "a 410 answer to the watch", watch: new KubeApiError("GET", "/x", 410, { code: 410 }) },
  ];
  for (const c of gone) {
    it(`${c.name}: relists at once and reports what changed meanwhile`, async () => {
      const slept: number[] = [];
      const { client, calls } = scriptedClient(
        [
          { items: [obj("a", "1"), obj("b", "2")], rv: "5" },
          { items: [obj("a", "1"), obj("c", "7")], rv: "8" },
        ],
        [c.watch],
      );
      const cache = startCache(client, { path: "/x" }, log, { sleep: async (ms) => void slept.push(ms) });
      await cache.synced;
      const seen: string[] = [];
      cache.onChange((o) => seen.push(o.metadata?.name ?? ""));
      await settle();
      assert.deepEqual(names(cache), ["a", "c"]);
      assert.deepEqual(seen.sort(), ["b", "c"], "b deleted, c added; a unchanged is not reported");
      assert.deepEqual(slept, []);
      assert.deepEqual(calls.watch.map((q) => q.resourceVersion), ["5", "8"]);
      await cache.stop();
    });
  }

  it("retries a failing list with a doubling, capped backoff and syncs once it works", async () => {
    const slept: number[] = [];
    const failure = new KubeApiError("GET", "/x", 404, { message: "the server could not find the requested resource" });
    const { client } = scriptedClient([failure, failure, failure, { items: [obj("a", "1")], rv: "3" }], []);
    const cache = startCache(client, { path: "/x" }, log, { sleep: async (ms) => void slept.push(ms), backoffMs: 100, maxBackoffMs: 250 });
    await cache.synced;
    assert.deepEqual(slept, [100, 200, 250]);
    assert.deepEqual(names(cache), ["a"]);
    await cache.stop();
  });

  it("stop ends a cache whose list never answers", async () => {
    const { client } = scriptedClient([], []);
    const cache = startCache(client, { path: "/x" }, log);
    await cache.stop();
  });
});
