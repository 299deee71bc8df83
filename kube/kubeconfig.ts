/**
 * Where the Kubernetes API is and how to authenticate to it: a kubeconfig file's current
 * context, or the pod's service account. Supported credentials: client certificates and bearer
 * tokens (inline or in files); a token file is re-read as it rotates. Exec plugins and auth
 * providers are not (our parts run in-cluster or with a certificate kubeconfig).
 * @module
 */
import { readFileSync } from "node:fs";
import { resolve, dirname } from "node:path";
import { createRequire } from "node:module";
import type * as Yaml from "yaml";

/** A resolved connection: PEM strings, never paths (except the rotating token file). */
export interface KubeTarget {
  /** https://host:port, no trailing slash. */
  readonly server: string;
  readonly caPem?: string;
  readonly certPem?: string;
  readonly keyPem?: string;
  readonly token?: string;
  /** Read again when older than a minute (projected service account tokens rotate). */
  readonly tokenFile?: string;
  readonly insecureSkipTLSVerify?: boolean;
  /** For messages: the kubeconfig file and context, or "in-cluster". */
  readonly source: string;
}

export class KubeconfigError extends Error {
  override readonly name = "KubeconfigError";
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

function named(list: unknown, name: string, field: string, where: string): Obj {
  const entry = (Array.isArray(list) ? list : []).map(obj).find((e) => e.name === name);
  if (entry === undefined) throw new KubeconfigError(`${where}: ${field} has no entry named "${name}"; the current context refers to it`);
  return obj(entry[field === "clusters" ? "cluster" : field === "users" ? "user" : "context"]);
}

/** PEM from `<field>-data` (base64) or `<field>` (a path relative to the kubeconfig). */
function pem(section: Obj, field: string, base: string): string | undefined {
  const data = str(section[`${field}-data`]);
  if (data !== undefined) return Buffer.from(data, "base64").toString("utf8");
  const path = str(section[field]);
  return path === undefined ? undefined : readFileSync(resolve(base, path), "utf8");
}

/** The current context of a parsed kubeconfig document; `path` for messages and relative files. */
export function targetFromKubeconfig(doc: unknown, path: string): KubeTarget {
  const d = obj(doc);
  const contextName = str(d["current-context"]);
  if (contextName === undefined) throw new KubeconfigError(`${path}: current-context is not set; expected the name of an entry in contexts`);
  const context = named(d.contexts, contextName, "contexts", path);
  const cluster = named(d.clusters, str(context.cluster) ?? "", "clusters", path);
  const user = str(context.user) === undefined ? {} : named(d.users, str(context.user) ?? "", "users", path);
  const server = str(cluster.server);
  if (server === undefined || !server.startsWith("https://")) throw new KubeconfigError(`${path}: clusters[${str(context.cluster)}].cluster.server must be an https:// URL`);
  if (user.exec !== undefined || user["auth-provider"] !== undefined) {
    throw new KubeconfigError(`${path}: users[${str(context.user)}] uses an exec plugin or auth provider; use a client certificate or a token`);
  }
  return { server: server.replace(/\/+$/, ""), ...credentials(cluster, user, dirname(path)), source: `${path} (context ${contextName})` };
}

/** The CA, client certificate and token fields of a cluster and user entry, only those set. */
function credentials(cluster: Obj, user: Obj, base: string): Omit<KubeTarget, "server" | "source"> {
  const fields = {
    caPem: pem(cluster, "certificate-authority", base),
    certPem: pem(user, "client-certificate", base),
    keyPem: pem(user, "client-key", base),
    token: str(user.token),
    tokenFile: str(user.tokenFile) === undefined ? undefined : resolve(base, str(user.tokenFile) ?? ""),
    insecureSkipTLSVerify: cluster["insecure-skip-tls-verify"] === true ? true : undefined,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

const SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The pod's service account: KUBERNETES_SERVICE_HOST/PORT (given by the caller) and the mounted token and CA. */
export function inClusterTarget(env: { readonly host?: string; readonly port?: string }, dir = SERVICE_ACCOUNT): KubeTarget {
  if (!env.host || !env.port) throw new KubeconfigError("not in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset; set KUBECONFIG to a kubeconfig file");
  const host = env.host.includes(":") ? `[${env.host}]` : env.host;
  return { server: `https://${host}:${env.port}`, caPem: readFileSync(`${dir}/ca.crt`, "utf8"), tokenFile: `${dir}/token`, source: "in-cluster" };
}

/**
 * A kubeconfig's text: JSON (a JSON object is also YAML) with JSON.parse, anything else with the
 * YAML parser, which is loaded only then (tens of milliseconds of a start; never in a pod).
 */
function parseConfigText(text: string): unknown {
  if (text.trimStart().startsWith("{")) return JSON.parse(text);
  const { parse } = createRequire(import.meta.url)("yaml") as typeof Yaml;
  return parse(text);
}

/** `path` set: that kubeconfig file; otherwise the in-cluster service account. */
export function loadTarget(path: string | undefined, env: { readonly host?: string; readonly port?: string }): KubeTarget {
  if (path === undefined || path === "") return inClusterTarget(env);
  let doc: unknown;
  try {
    doc = parseConfigText(readFileSync(path, "utf8"));
  } catch (err) {
    throw new KubeconfigError(`${path}: cannot read the kubeconfig: ${err instanceof Error ? err.message : String(err)}`);
  }
  return targetFromKubeconfig(doc, path);
}
