/**
 * Pure transformations of manifests for a local control plane: CRD names, webhook
 * configurations pointed at a local URL, and the ExternalName Service + APIService pair that
 * lets kube-apiserver reach an aggregated server on localhost.
 * @module
 */
import { parseAllDocuments } from "yaml";

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Every non-empty YAML document in `text`, as plain objects. Throws naming `source` on bad YAML. */
export function parseManifests(text: string, source: string): Obj[] {
  const docs = parseAllDocuments(text);
  const out: Obj[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      throw new Error(`${source}: invalid YAML: ${doc.errors[0]?.message ?? "unknown error"}; expected Kubernetes manifests`);
    }
    const value: unknown = doc.toJS();
    if (isObj(value)) out.push(value);
  }
  return out;
}

/** Names of the CustomResourceDefinitions among `objects`. */
export function crdNames(objects: readonly Obj[]): string[] {
  return objects
    .filter((o) => o.kind === "CustomResourceDefinition")
    .map((o) => (isObj(o.metadata) ? String(o.metadata.name ?? "") : ""))
    .filter((n) => n !== "");
}

const WEBHOOK_KINDS = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"] as const;

/** `base` + `path`, with exactly one slash between them (envtest's `"/" + path` gives `//`). */
export function joinUrl(base: string, path: string): string {
  if (!path) return base;
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}

function webhookPath(clientConfig: unknown): string {
  if (!isObj(clientConfig)) return "";
  if (isObj(clientConfig.service) && typeof clientConfig.service.path === "string") return clientConfig.service.path;
  if (typeof clientConfig.url === "string") return new URL(clientConfig.url).pathname;
  return "";
}

export interface WebhookTarget {
  /** `https://127.0.0.1:<port>` (a path prefix is kept). */
  readonly url: string;
  /** base64 PEM of the CA that signed the webhook server's certificate. */
  readonly caBundle: string;
}

/**
 * The webhook configurations among `objects`, each webhook's `clientConfig` replaced by
 * `{ url: target.url + <its service.path or url path>, caBundle }`. Everything else is kept.
 */
export function rewriteWebhookConfigs(objects: readonly Obj[], target: WebhookTarget): Obj[] {
  if (!target.url.startsWith("https://")) {
    throw new Error(`registerWebhooks: url ${target.url} is not https; kube-apiserver only calls https:// webhook URLs`);
  }
  return objects
    .filter((o) => (WEBHOOK_KINDS as readonly unknown[]).includes(o.kind))
    .map((o) => {
      const webhooks = Array.isArray(o.webhooks) ? (o.webhooks as unknown[]) : [];
      return {
        ...o,
        webhooks: webhooks.filter(isObj).map((w) => ({
          ...w,
          clientConfig: { url: joinUrl(target.url, webhookPath(w.clientConfig)), caBundle: target.caBundle },
        })),
      };
    });
}

export interface ApiServiceTarget {
  readonly group: string;
  readonly version: string;
  /** Port the aggregated server listens on, on localhost. */
  readonly port: number;
  readonly caBundle: string;
  readonly serviceName: string;
  readonly namespace: string;
  readonly groupPriorityMinimum?: number;
  readonly versionPriority?: number;
}

/**
 * Namespace, ExternalName Service → `localhost`, and APIService `<version>.<group>` with the
 * caBundle. kube-apiserver resolves ExternalName services to `https://<externalName>:<port>`
 * and verifies the server certificate for `<service>.<namespace>.svc`.
 */
export function apiServiceObjects(t: ApiServiceTarget): Obj[] {
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: t.namespace } },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: t.serviceName, namespace: t.namespace },
      spec: { type: "ExternalName", externalName: "localhost", ports: [{ name: "https", port: t.port, protocol: "TCP" }] },
    },
    {
      apiVersion: "apiregistration.k8s.io/v1",
      kind: "APIService",
      metadata: { name: `${t.version}.${t.group}` },
      spec: {
        group: t.group,
        version: t.version,
        groupPriorityMinimum: t.groupPriorityMinimum ?? 1000,
        versionPriority: t.versionPriority ?? 15,
        service: { name: t.serviceName, namespace: t.namespace, port: t.port },
        caBundle: t.caBundle,
      },
    },
  ];
}

/** Objects as one `List` JSON document, the form `kubectl apply -f -` takes in one call. */
export function asList(objects: readonly Obj[]): string {
  return JSON.stringify({ apiVersion: "v1", kind: "List", items: objects });
}
