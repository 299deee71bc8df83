/**
 * Watch-backed caches: list (in pages), then watch from the list's resourceVersion, with
 * bookmarks; a watch that ends is resumed, a 410 Gone or any error relists (after a backoff
 * that doubles, forever, until `stop()`). The cache is read-only: copy before changing anything
 * taken from it. `synced` resolves once the first list is in the cache.
 * @module
 */
import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "./log.ts";
import { KubeApiError } from "./rest.ts";
import type { KubeClient, WatchEvent } from "./rest.ts";

/** What a cache needs of an object. */
export interface KubernetesObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; generation?: number };
}

export interface ResourceRef {
  /** URL path of the collection, e.g. /apis/apps/v1/deployments. */
  readonly path: string;
}

export interface Cache<T extends KubernetesObject> {
  /** Resolves once the first list is in the cache. */
  readonly synced: Promise<void>;
  get(name: string, namespace?: string): T | undefined;
  /** Every object, or a namespace's. */
  list(namespace?: string): T[];
  /** Called with each object added, changed or deleted (after the cache holds the change). */
  onChange(cb: (obj: T) => void): void;
  stop(): Promise<void>;
}

export interface CacheOptions {
  readonly sleep?: (ms: number) => Promise<void>;
  /** First retry delay after an error; doubles up to maxBackoffMs. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Objects per list page (default 500). */
  readonly pageSize?: number;
}

interface ListPage<T> {
  readonly items?: T[];
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
}

/** Objects by namespace ("" for cluster-scoped) and name. */
class Store<T extends KubernetesObject> {
  private readonly byNs = new Map<string, Map<string, T>>();

  get(name: string, namespace = ""): T | undefined {
    return this.byNs.get(namespace)?.get(name);
  }
  list(namespace?: string): T[] {
    if (namespace !== undefined) return [...(this.byNs.get(namespace)?.values() ?? [])];
    return [...this.byNs.values()].flatMap((m) => [...m.values()]);
  }
  set(obj: T): void {
    const ns = obj.metadata?.namespace ?? "";
    let m = this.byNs.get(ns);
    if (m === undefined) this.byNs.set(ns, (m = new Map()));
    m.set(obj.metadata?.name ?? "", obj);
  }
  delete(obj: T): void {
    const ns = obj.metadata?.namespace ?? "";
    this.byNs.get(ns)?.delete(obj.metadata?.name ?? "");
  }
  /** Holds exactly `items` afterwards; returns the objects removed and those new or changed. */
  replace(items: readonly T[]): T[] {
    const key = (o: T): string => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
    const fresh = new Set(items.map(key));
    const gone = this.list().filter((o) => !fresh.has(key(o)));
    for (const o of gone) this.delete(o);
    const changed = items.filter((o) => this.get(o.metadata?.name ?? "", o.metadata?.namespace)?.metadata?.resourceVersion !== o.metadata?.resourceVersion);
    for (const o of items) this.set(o);
    return [...gone, ...changed];
  }
}

/** Every page of a collection, and the resourceVersion to watch from. */
async function listAll<T>(client: KubeClient, path: string, o: { pageSize: number; signal: AbortSignal }): Promise<{ items: T[]; resourceVersion: string }> {
  const items: T[] = [];
  let page: ListPage<T> = {};
  do {
    const cont = page.metadata?.continue;
    page = await client.request<ListPage<T>>("GET", path, { query: { limit: o.pageSize, ...(cont ? { continue: cont } : {}) }, signal: o.signal });
    items.push(...(page.items ?? []));
  } while (page.metadata?.continue);
  return { items, resourceVersion: page.metadata?.resourceVersion ?? "" };
}

/** An ERROR frame ends the watch: 410 Gone relists at once, anything else after a backoff. */
class Relist extends Error {
  readonly gone: boolean;
  constructor(message: string, gone: boolean) {
    super(message);
    this.gone = gone;
  }
}

/** What one watch loop tracks: the resourceVersion to resume from, and what ended it. */
interface WatchState {
  rv: string;
  failure?: Error;
}

export function startCache<T extends KubernetesObject>(client: KubeClient, ref: ResourceRef, log: Logger, opts: CacheOptions = {}): Cache<T> {
  const sleep = opts.sleep ?? ((ms: number) => delay(ms));
  const base = opts.backoffMs ?? 500;
  const abort = new AbortController();
  const store = new Store<T>();
  const listeners: ((obj: T) => void)[] = [];
  const emit = (obj: T): void => listeners.forEach((cb) => cb(obj));
  let markSynced: () => void = () => {};
  const synced = new Promise<void>((resolve) => (markSynced = resolve));

  /** Lists every page into the store (telling listeners what changed); the list's resourceVersion. */
  const relist = async (): Promise<string> => {
    const { items, resourceVersion } = await listAll<T>(client, ref.path, { pageSize: opts.pageSize ?? 500, signal: abort.signal });
    const changed = store.replace(items);
    markSynced();
    for (const o of changed) emit(o);
    return resourceVersion;
  };

  const apply = (state: WatchState, e: WatchEvent<T>): void => {
    if (e.type === "ERROR") {
      const status = e.object as { code?: number; message?: string };
      throw new Relist(`watch of ${ref.path}: ${status.code ?? ""} ${status.message ?? "error"}`, status.code === 410);
    }
    const rv = e.object?.metadata?.resourceVersion;
    if (rv) state.rv = rv;
    if (e.type === "BOOKMARK") return;
    if (e.type === "DELETED") store.delete(e.object);
    else store.set(e.object);
    emit(e.object);
  };

  /**
   * Watches from `rv`, resuming from the last resourceVersion whenever a stream ends; returns
   * when a relist is due (410 Gone), throws on any other failure (the loop backs off). A handler
   * that throws ends the stream (kube/rest.ts); the error is kept to decide what comes next.
   */
  const follow = async (rv: string): Promise<void> => {
    const state: WatchState = { rv };
    const onEvent = (e: WatchEvent<T>): void => {
      try {
        apply(state, e);
      } catch (err) {
        state.failure = err as Error;
        throw err;
      }
    };
    while (!abort.signal.aborted && state.failure === undefined) {
      const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
      try {
        await client.watch<T>(ref.path, { resourceVersion: state.rv, allowWatchBookmarks: true, timeoutSeconds }, onEvent, abort.signal);
      } catch (err) {
        if (err instanceof KubeApiError && err.code === 410) return;
        throw err;
      }
    }
    if (state.failure instanceof Relist && state.failure.gone) return;
    if (state.failure !== undefined) throw state.failure;
  };

  const loop = async (): Promise<void> => {
    let backoff = base;
    while (!abort.signal.aborted) {
      try {
        const rv = await relist();
        backoff = base;
        await follow(rv);
      } catch (err) {
        if (abort.signal.aborted) return;
        log.warn({ resource: ref.path, err: err instanceof Error ? err.message : String(err), retryMs: backoff }, "list or watch failed; retrying");
        await sleep(backoff);
        backoff = Math.min(backoff * 2, opts.maxBackoffMs ?? 30_000);
      }
    }
  };
  const running = loop();

  return {
    synced,
    get: (name, namespace) => store.get(name, namespace),
    list: (namespace) => store.list(namespace),
    onChange: (cb) => void listeners.push(cb),
    stop: async () => {
      abort.abort();
      await running;
    },
  };
}
