/**
 * The certificates a control plane needs, written to `dir/pki`: a serving CA and the
 * kube-apiserver serving cert (SANs localhost, 127.0.0.1), a client CA with an admin user in
 * `system:masters` and a kubelet-client identity, a separate front-proxy CA with the
 * `front-proxy-client` cert the aggregator presents, and the service-account signing keys.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateCA, generateKeyPair, issueCertificate } from "../../certs/certificates.ts";
import type { CertificateAndKey } from "../../certs/certificates.ts";

export interface ControlPlanePki {
  readonly dir: string;
  readonly servingCa: CertificateAndKey;
  readonly clientCa: CertificateAndKey;
  readonly frontProxyCa: CertificateAndKey;
  readonly admin: CertificateAndKey;
  readonly frontProxyClient: CertificateAndKey;
  /** File paths, for command-line flags. */
  readonly files: Readonly<Record<PkiFile, string>>;
}

export const pkiFiles = [
  "servingCaCert",
  "apiserverCert",
  "apiserverKey",
  "clientCaCert",
  "frontProxyCaCert",
  "frontProxyClientCert",
  "frontProxyClientKey",
  "kubeletClientCert",
  "kubeletClientKey",
  "saKey",
  "saPub",
] as const;
export type PkiFile = (typeof pkiFiles)[number];

const fileNames: Readonly<Record<PkiFile, string>> = {
  servingCaCert: "serving-ca.crt",
  apiserverCert: "apiserver.crt",
  apiserverKey: "apiserver.key",
  clientCaCert: "client-ca.crt",
  frontProxyCaCert: "front-proxy-ca.crt",
  frontProxyClientCert: "front-proxy-client.crt",
  frontProxyClientKey: "front-proxy-client.key",
  kubeletClientCert: "kubelet-client.crt",
  kubeletClientKey: "kubelet-client.key",
  saKey: "sa.key",
  saPub: "sa.pub",
};

/** Generates every certificate and key of one control plane and writes them under `dir/pki`. */
export async function createControlPlanePki(dir: string): Promise<ControlPlanePki> {
  const pkiDir = join(dir, "pki");
  mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  const [servingCa, clientCa, frontProxyCa, sa] = await Promise.all([
    generateCA("podwarden-test-serving-ca"),
    generateCA("podwarden-test-client-ca"),
    generateCA("podwarden-test-front-proxy-ca"),
    generateKeyPair(),
  ]);
  const [apiserver, admin, frontProxyClient, kubeletClient] = await Promise.all([
    issueCertificate({
      ca: servingCa,
      commonName: "kube-apiserver",
      dnsNames: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"],
      ipAddresses: ["127.0.0.1", "10.0.0.1"],
      usage: "server",
    }),
    issueCertificate({ ca: clientCa, commonName: "admin", organizations: ["system:masters"], usage: "client" }),
    issueCertificate({ ca: frontProxyCa, commonName: "front-proxy-client", usage: "client" }),
    issueCertificate({
      ca: clientCa,
      commonName: "kube-apiserver-kubelet-client",
      organizations: ["system:masters"],
      usage: "client",
    }),
  ]);
  const contents: Record<PkiFile, string> = {
    servingCaCert: servingCa.certPem,
    apiserverCert: apiserver.certPem,
    apiserverKey: apiserver.keyPem,
    clientCaCert: clientCa.certPem,
    frontProxyCaCert: frontProxyCa.certPem,
    frontProxyClientCert: frontProxyClient.certPem,
    frontProxyClientKey: frontProxyClient.keyPem,
    kubeletClientCert: kubeletClient.certPem,
    kubeletClientKey: kubeletClient.keyPem,
    saKey: sa.privateKeyPem,
    saPub: sa.publicKeyPem,
  };
  const files = {} as Record<PkiFile, string>;
  for (const name of pkiFiles) {
    files[name] = join(pkiDir, fileNames[name]);
    writeFileSync(files[name], contents[name], { mode: 0o600 });
  }
  return { dir: pkiDir, servingCa, clientCa, frontProxyCa, admin, frontProxyClient, files };
}
