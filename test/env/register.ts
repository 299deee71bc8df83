/**
 * Registers our extensions with a test control plane: CRDs, admission webhooks pointing at a
 * local HTTPS URL, and an aggregated APIService reached through an ExternalName Service.
 * @module
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateCA, issueCertificate, toCaBundle } from "../../certs/certificates.ts";
import type { CertificateAndKey } from "../../certs/certificates.ts";
import type { ControlPlane } from "./control-plane.ts";
import { apiServiceObjects, asList, crdNames, parseManifests, rewriteWebhookConfigs } from "./manifests.ts";

/** The part of a control plane the registration helpers use. */
export type KubectlEnv = Pick<ControlPlane, "kubectl" | "kubectlOk" | "invalidateDiscovery">;

/** Every object of the manifest files at `paths`, in order. */
export const readManifests = (paths: readonly string[]): Record<string, unknown>[] => paths.flatMap((p) => parseManifests(readFileSync(p, "utf8"), p));

/** Applies the CRDs in `yamlPaths` (server-side) and waits until each is Established. Returns their names. */
export async function installCRDs(env: KubectlEnv, yamlPaths: readonly string[], timeoutSeconds = 60): Promise<string[]> {
  const names = crdNames(readManifests(yamlPaths));
  if (names.length === 0) {
    throw new Error(`installCRDs: no CustomResourceDefinition in ${yamlPaths.join(", ")}; expected CRD manifests`);
  }
  for (const path of yamlPaths) {
    await env.kubectlOk(["apply", "--server-side", "--force-conflicts", "-f", path]);
  }
  await env.kubectlOk(["wait", "--for=condition=Established", `--timeout=${timeoutSeconds}s`, ...names.map((n) => `crd/${n}`)]);
  env.invalidateDiscovery();
  return names;
}

export interface WebhookRegistration {
  /** `https://127.0.0.1:<port>`; each webhook keeps its own path. */
  readonly url: string;
  /** CA that signed the webhook server's certificate (PEM). */
  readonly caPem: string;
  /** The repository's webhook configuration YAML (other kinds in these files are ignored). */
  readonly manifestPaths: readonly string[];
}

/** Applies the webhook configurations with `clientConfig: { url, caBundle }`. Returns "kind/name" of each. */
export async function registerWebhooks(env: KubectlEnv, reg: WebhookRegistration): Promise<string[]> {
  const configs = rewriteWebhookConfigs(readManifests(reg.manifestPaths), { url: reg.url, caBundle: toCaBundle(reg.caPem) });
  if (configs.length === 0) {
    throw new Error(
      `registerWebhooks: no Mutating/ValidatingWebhookConfiguration in ${reg.manifestPaths.join(", ")}; expected webhook configuration manifests`,
    );
  }
  await env.kubectlOk(["apply", "-f", "-"], { input: asList(configs) });
  return configs.map((c) => `${String(c.kind).toLowerCase()}/${String((c.metadata as { name?: string }).name)}`);
}

export interface APIServiceRegistration {
  readonly group: string;
  readonly version: string;
  /** Port of the aggregated server on localhost. */
  readonly port: number;
  /** CA that signed the aggregated server's certificate (PEM). */
  readonly caPem: string;
  readonly serviceName: string;
  readonly namespace: string;
  /** How long to wait for Available=True (default 60 s). */
  readonly timeoutSeconds?: number;
}

/**
 * Creates an ExternalName Service (→ localhost) and the APIService `<version>.<group>`, then
 * waits until the APIService is Available. On timeout the error carries its conditions.
 */
export async function registerAPIService(env: KubectlEnv, reg: APIServiceRegistration): Promise<void> {
  const objects = apiServiceObjects({ ...reg, caBundle: toCaBundle(reg.caPem) });
  await env.kubectlOk(["apply", "-f", "-"], { input: asList(objects) });
  const name = `apiservice/${reg.version}.${reg.group}`;
  const wait = await env.kubectl(["wait", "--for=condition=Available", `--timeout=${reg.timeoutSeconds ?? 60}s`, name]);
  if (wait.code !== 0) {
    const status = await env.kubectl(["get", name, "-o", "jsonpath={.status.conditions}"]);
    throw new Error(`registerAPIService: ${name} did not become Available: ${wait.stderr.trim()}; conditions: ${status.stdout}`);
  }
  env.invalidateDiscovery();
}

export interface LocalServingOptions {
  /** Adds DNS SANs `<service>.<namespace>.svc` (+ `.cluster.local`), which the aggregator verifies. */
  readonly serviceName?: string;
  readonly namespace?: string;
  readonly dnsNames?: readonly string[];
  /** Reuse a CA instead of generating one. */
  readonly ca?: CertificateAndKey;
}

/**
 * A CA and a serving certificate for a local webhook or aggregated server: SANs localhost,
 * 127.0.0.1, ::1 and, when given, the in-cluster service names.
 */
export async function issueLocalServingCert(opts: LocalServingOptions = {}): Promise<{ caPem: string; certPem: string; keyPem: string }> {
  const ca = opts.ca ?? (await generateCA("podwarden-test-local-ca"));
  const svc = opts.serviceName && opts.namespace ? `${opts.serviceName}.${opts.namespace}.svc` : undefined;
  const leaf = await issueCertificate({
    ca,
    commonName: svc ?? "localhost",
    dnsNames: ["localhost", ...(svc ? [svc, `${svc}.cluster.local`] : []), ...(opts.dnsNames ?? [])],
    ipAddresses: ["127.0.0.1", "::1"],
    usage: "server",
  });
  return { caPem: ca.certPem, certPem: leaf.certPem, keyPem: leaf.keyPem };
}

/**
 * issueLocalServingCert, written where a server reads it: `<dir>/tls.crt` and `<dir>/tls.key`
 * (owner-only), as a Secret volume mounts them. Returns the files and the CA to trust.
 */
export async function writeLocalServingCert(dir: string, opts: LocalServingOptions = {}): Promise<{ caPem: string; certFile: string; keyFile: string }> {
  const tls = await issueLocalServingCert(opts);
  const certFile = join(dir, "tls.crt");
  const keyFile = join(dir, "tls.key");
  mkdirSync(dir, { recursive: true });
  writeFileSync(certFile, tls.certPem);
  writeFileSync(keyFile, tls.keyPem, { mode: 0o600 });
  return { caPem: tls.caPem, certFile, keyFile };
}
