/**
 * Kubeconfig files with every credential embedded, so one file is all kubectl or a client needs.
 * Written as JSON, which kubectl and every YAML reader accept, and which our servers read without
 * loading a YAML parser, as in a pod (kube/kubeconfig.ts).
 * @module
 */

export interface KubeconfigInput {
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  readonly caPem: string;
  /** User name inside the file (not the identity; the certificate's CN is). */
  readonly userName: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  /** Default namespace of the context (omitted = `default`). */
  readonly namespace?: string;
}

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");

/** The text of a kubeconfig with one cluster, one user and one current context (JSON). */
export function renderKubeconfig(input: KubeconfigInput): string {
  const context = { cluster: "podwarden-test", user: input.userName, ...(input.namespace ? { namespace: input.namespace } : {}) };
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "podwarden-test", cluster: { server: input.server, "certificate-authority-data": b64(input.caPem) } }],
    users: [
      {
        name: input.userName,
        user: { "client-certificate-data": b64(input.clientCertPem), "client-key-data": b64(input.clientKeyPem) },
      },
    ],
    contexts: [{ name: input.userName, context }],
    "current-context": input.userName,
    preferences: {},
  }, null, 2);
}
