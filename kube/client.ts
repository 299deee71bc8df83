/**
 * The Kubernetes client of our servers: kube/rest.ts with the credentials of a kubeconfig file
 * or of the pod's service account.
 * @module
 */
import { loadTarget } from "./kubeconfig.ts";
import { createKubeClient } from "./rest.ts";
import type { KubeClient } from "./rest.ts";

export type { KubeClient };

/** Where the in-cluster API is (the pod's KUBERNETES_SERVICE_HOST/PORT), read by main.ts. */
export interface ClusterEnv {
  readonly host?: string;
  readonly port?: string;
}

/** `kubeconfig` set: that file's current context; otherwise the in-cluster service account. */
export function loadKubeClient(kubeconfig: string | undefined, env: ClusterEnv = {}): KubeClient {
  return createKubeClient(loadTarget(kubeconfig, env));
}
