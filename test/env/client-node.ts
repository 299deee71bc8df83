/**
 * @kubernetes/client-node's KubeConfig, for the test tools that use that library's typed APIs
 * (the node agent, KWOK helpers, exec). Our servers use kube/client.ts.
 * @module
 */
import { KubeConfig } from "@kubernetes/client-node";

export type { KubeConfig };

export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}
