/**
 * Watch-backed caches: list once, then watch (client-node's ListWatch). The cache is
 * read-only: copy before changing anything taken from it. `synced` resolves once the first
 * list is in the cache; a list or watch that fails is retried with backoff, forever, until
 * `stop()` (client-node stops an informer on the first error).
 * @module
 */
import type { KubeConfig, KubernetesListObject, KubernetesObject, ObjectCache } from "@kubernetes/client-node";
import { makeInformer } from "@kubernetes/client-node";
import { setTimeout as delay } from "node:timers/promises";
import { objectApi } from "./client.ts";
import type { Logger } from "./log.ts";

export interface ResourceRef {
  readonly apiVersion: string;
  readonly kind: string;
  /** URL path of the collection, e.g. /apis/apps/v1/deployments. */
  readonly path: string;
}

export interface Cache<T extends KubernetesObject> extends ObjectCache<T> {
  /** Resolves once the first list is in the cache. */
  readonly synced: Promise<void>;
  onChange(cb: (obj: T) => void): void;
  stop(): Promise<void>;
}

export interface CacheOptions {
  readonly sleep?: (ms: number) => Promise<void>;
  /** First retry delay after an error; doubles up to maxBackoffMs. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
}

export function startCache<T extends KubernetesObject>(kc: KubeConfig, ref: ResourceRef, log: Logger, opts: CacheOptions = {}): Cache<T> {
  const api = objectApi(kc);
  const sleep = opts.sleep ?? ((ms: number) => delay(ms));
  const base = opts.backoffMs ?? 500;
  let backoff = base;
  let stopped = false;
  let markSynced: () => void = () => {};
  const synced = new Promise<void>((resolve) => (markSynced = resolve));
  const list = async (): Promise<KubernetesListObject<T>> => {
    const result = await api.list<T>(ref.apiVersion, ref.kind);
    backoff = base;
    // ListWatch stores the items right after this promise settles; resolve after that.
    setImmediate(markSynced);
    return result;
  };
  const informer = makeInformer<T>(kc, ref.path, list);
  const start = (): void => void informer.start().catch((err: unknown) => restart(err));
  const restart = (err: unknown): void => {
    if (stopped) return;
    log.warn({ resource: ref.path, err: String(err), retryMs: backoff }, "list or watch failed; retrying");
    const wait = backoff;
    backoff = Math.min(backoff * 2, opts.maxBackoffMs ?? 30_000);
    void sleep(wait).then(() => (stopped ? undefined : start()));
  };
  informer.on("error", restart);
  const listeners: ((obj: T) => void)[] = [];
  for (const verb of ["add", "update", "delete"] as const) informer.on(verb, (obj) => listeners.forEach((cb) => cb(obj)));
  start();
  return {
    synced,
    get: (name, namespace) => informer.get(name, namespace),
    list: (namespace) => informer.list(namespace),
    onChange: (cb) => listeners.push(cb),
    stop: async () => {
      stopped = true;
      await informer.stop();
    },
  };
}
