/**
 * The Kubernetes client: a KubeConfig from a file or from the pod's service account. Only
 * kube/ and the adapters beside each part touch @kubernetes/client-node.
 * @module
 */
import { KubeConfig, KubernetesObjectApi } from "@kubernetes/client-node";

export type { KubeConfig };

/** `kubeconfig` set: that file; otherwise the in-cluster service account. */
export function loadKubeConfig(kubeconfig: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromCluster();
  return kc;
}

export function objectApi(kc: KubeConfig): KubernetesObjectApi {
  return KubernetesObjectApi.makeApiClient(kc);
}
