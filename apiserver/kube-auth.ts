/**
 * The real delegated-auth adapters: TokenReview, SubjectAccessReview, and a watch of ConfigMap
 * kube-system/extension-apiserver-authentication.
 * @module
 */
import type { Logger } from "../kube/log.ts";
import type { KubeClient } from "../kube/rest.ts";
import { AUTH_CONFIGMAP, parseAuthConfigMap } from "./auth-config.ts";
import type { AccessReviewer, AuthConfig, AuthConfigSource, SubjectAccessReviewSpec, TokenReviewer } from "./auth-types.ts";

interface ConfigMap {
  readonly metadata?: { readonly resourceVersion?: string };
  readonly data?: Record<string, string>;
}

export function kubeTokenReviewer(client: KubeClient): TokenReviewer {
  return {
    async review(token) {
      const body = { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } };
      const review = await client.request<{ status?: Awaited<ReturnType<TokenReviewer["review"]>> }>("POST", "/apis/authentication.k8s.io/v1/tokenreviews", { body });
      return review.status ?? {};
    },
  };
}

export function kubeAccessReviewer(client: KubeClient): AccessReviewer {
  return {
    async review(spec: SubjectAccessReviewSpec) {
      const body = {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: spec.user,
          ...(spec.uid === undefined ? {} : { uid: spec.uid }),
          groups: [...spec.groups],
          ...(spec.extra === undefined ? {} : { extra: Object.fromEntries(Object.entries(spec.extra).map(([k, v]) => [k, [...v]])) }),
          ...(spec.resourceAttributes === undefined ? {} : { resourceAttributes: { ...spec.resourceAttributes } }),
          ...(spec.nonResourceAttributes === undefined ? {} : { nonResourceAttributes: { ...spec.nonResourceAttributes } }),
        },
      };
      const review = await client.request<{ status?: { allowed?: boolean; denied?: boolean; reason?: string } }>("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", { body });
      const s = review.status;
      return { allowed: s?.allowed === true, ...(s?.denied === undefined ? {} : { denied: s.denied }), ...(s?.reason ? { reason: s.reason } : {}) };
    },
  };
}

export interface WatchedAuthConfig extends AuthConfigSource {
  /** Resolves once the ConfigMap was read the first time. */
  readonly ready: Promise<void>;
  stop(): void;
}

export interface WatchAuthConfigOptions {
  readonly client: KubeClient;
  readonly log: Logger;
  readonly sleep: (ms: number) => Promise<void>;
  /** Wait after a failed read or watch before trying again. */
  readonly retryMs?: number;
}

/**
 * Keeps the ConfigMap's configuration current: read, then watch (by name, which the
 * extension-apiserver-authentication-reader Role allows); the read and watch repeat whenever
 * the watch ends. A bad ConfigMap keeps the previous configuration.
 */
export function watchAuthConfig(opts: WatchAuthConfigOptions): WatchedAuthConfig {
  const path = `/api/v1/namespaces/${AUTH_CONFIGMAP.namespace}/configmaps`;
  let current: AuthConfig | undefined;
  let stopped = false;
  const abort = new AbortController();
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const apply = (cm: ConfigMap): void => {
    const parsed = parseAuthConfigMap(cm.data);
    for (const e of parsed.errors) opts.log.warn({ configMap: AUTH_CONFIGMAP.name, error: e }, "authentication configuration has an unusable field");
    current = parsed.config;
    markReady();
    opts.log.info({ clientCAs: current.clientCA.length, frontProxy: current.requestHeader !== undefined }, "authentication configuration loaded");
  };

  const watchOnce = (resourceVersion: string | undefined): Promise<void> =>
    opts.client
      .watch<ConfigMap>(path, { fieldSelector: `metadata.name=${AUTH_CONFIGMAP.name}`, ...(resourceVersion ? { resourceVersion } : {}) }, (e) => {
        if (e.type === "ADDED" || e.type === "MODIFIED") apply(e.object);
      }, abort.signal)
      .catch(() => undefined);

  const loop = async (): Promise<void> => {
    while (!stopped) {
      try {
        const cm = await opts.client.request<ConfigMap>("GET", `${path}/${AUTH_CONFIGMAP.name}`, { signal: abort.signal });
        apply(cm);
        await watchOnce(cm.metadata?.resourceVersion);
        if (!stopped) await opts.sleep(1000);
      } catch (err) {
        if (stopped) return;
        opts.log.warn({ configMap: AUTH_CONFIGMAP.name, error: err instanceof Error ? err.message : String(err) }, "cannot read the authentication configuration; retrying");
        await opts.sleep(opts.retryMs ?? 5000);
      }
    }
  };
  void loop();

  return {
    current: () => current,
    ready,
    stop() {
      stopped = true;
      abort.abort();
    },
  };
}
