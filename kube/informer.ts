/**
 * Watch-backed caches: list once, then watch; reconnects with backoff (client-node's
 * ListWatch). The cache is read-only: copy before changing anything taken from it.
 * @module
 */
import type { KubeConfig, KubernetesObject, ObjectCache } from "@kubernetes/client-node";
import { makeInformer } from "@kubernetes/client-node";
import { objectApi } from "./client.ts";
import type { Logger } from "./log.ts";

export interface ResourceRef {
  readonly apiVersion: string;
  readonly kind: string;
  /** URL path of the collection, e.g. /apis/apps/v1/deployments. */
  readonly path: string;
}

export interface Cache<T extends KubernetesObject> extends ObjectCache<T> {
  /** Resolves once the first list has arrived. */
  readonly synced: Promise<void>;
  onChange(cb: (obj: T) => void): void;
  stop(): Promise<void>;
}

export function startCache<T extends KubernetesObject>(kc: KubeConfig, ref: ResourceRef, log: Logger): Cache<T> {
  const api = objectApi(kc);
  const informer = makeInformer<T>(kc, ref.path, () => api.list<T>(ref.apiVersion, ref.kind));
  let markSynced: () => void = () => {};
  const synced = new Promise<void>((resolve) => (markSynced = resolve));
  informer.on("connect", () => markSynced());
  informer.on("error", (err) => log.warn({ resource: ref.path, err: String(err) }, "watch interrupted; reconnecting"));
  const listeners: ((obj: T) => void)[] = [];
  for (const verb of ["add", "update", "delete"] as const) informer.on(verb, (obj) => listeners.forEach((cb) => cb(obj)));
  informer.start().catch((err: unknown) => log.error({ resource: ref.path, err: String(err) }, "watch failed to start"));
  return {
    synced,
    get: (name, namespace) => informer.get(name, namespace),
    list: (namespace) => informer.list(namespace),
    onChange: (cb) => listeners.push(cb),
    stop: () => informer.stop(),
  };
}
