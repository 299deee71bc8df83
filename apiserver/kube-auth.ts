/**
 * The real delegated-auth adapters with @kubernetes/client-node: TokenReview,
 * SubjectAccessReview, and a watch of ConfigMap kube-system/extension-apiserver-authentication.
 * @module
 */
import { AuthenticationV1Api, AuthorizationV1Api, CoreV1Api, Watch } from "@kubernetes/client-node";
import type { KubeConfig, V1ConfigMap } from "@kubernetes/client-node";
import type { Logger } from "../kube/log.ts";
import { AUTH_CONFIGMAP, parseAuthConfigMap } from "./auth-config.ts";
import type { AccessReviewer, AuthConfig, AuthConfigSource, SubjectAccessReviewSpec, TokenReviewer } from "./auth-types.ts";

export function kubeTokenReviewer(kc: KubeConfig): TokenReviewer {
  const api = kc.makeApiClient(AuthenticationV1Api);
  return {
    async review(token) {
      const review = await api.createTokenReview({ body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } } });
      return review.status ?? {};
    },
  };
}

export function kubeAccessReviewer(kc: KubeConfig): AccessReviewer {
  const api = kc.makeApiClient(AuthorizationV1Api);
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
      const review = await api.createSubjectAccessReview({ body });
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
  readonly kc: KubeConfig;
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
  const core = opts.kc.makeApiClient(CoreV1Api);
  const watch = new Watch(opts.kc);
  const path = `/api/v1/namespaces/${AUTH_CONFIGMAP.namespace}/configmaps`;
  let current: AuthConfig | undefined;
  let stopped = false;
  let abort: AbortController | undefined;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const apply = (cm: V1ConfigMap): void => {
    const parsed = parseAuthConfigMap(cm.data);
    for (const e of parsed.errors) opts.log.warn({ configMap: AUTH_CONFIGMAP.name, error: e }, "authentication configuration has an unusable field");
    current = parsed.config;
    markReady();
    opts.log.info({ clientCAs: current.clientCA.length, frontProxy: current.requestHeader !== undefined }, "authentication configuration loaded");
  };

  const watchOnce = (resourceVersion: string | undefined): Promise<void> =>
    new Promise<void>((resolve) => {
      const query = { fieldSelector: `metadata.name=${AUTH_CONFIGMAP.name}`, ...(resourceVersion ? { resourceVersion } : {}) };
      const onEvent = (type: string, obj: V1ConfigMap): void => {
        if (type === "ADDED" || type === "MODIFIED") apply(obj);
      };
      watch.watch(path, query, onEvent, () => resolve()).then(
        (controller) => (abort = controller),
        () => resolve(),
      );
    });

  const loop = async (): Promise<void> => {
    while (!stopped) {
      try {
        const cm = await core.readNamespacedConfigMap({ name: AUTH_CONFIGMAP.name, namespace: AUTH_CONFIGMAP.namespace });
        apply(cm);
        await watchOnce(cm.metadata?.resourceVersion);
        if (!stopped) await opts.sleep(1000);
      } catch (err) {
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
      abort?.abort();
    },
  };
}
