/**
 * Certificate authorities and leaf certificates for serving and client authentication.
 * ECDSA P-256 keys, SHA-256 signatures, PEM in and out (keys as PKCS#8 `PRIVATE KEY`).
 * The clock is injectable (`now`); key material is random.
 * @module
 */
import "reflect-metadata"; // tsyringe (under @peculiar/x509) needs the Reflect metadata API
import { createPrivateKey, createPublicKey, randomBytes, webcrypto } from "node:crypto";
import { isIP } from "node:net";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const subtle = webcrypto.subtle;
const EC_KEY = { name: "ECDSA", namedCurve: "P-256" } as const;
const EC_SIGN = { name: "ECDSA", hash: "SHA-256" } as const;
const SKEW_MS = 5 * 60_000;
const DAY_MS = 86_400_000;

export const usages = ["server", "client"] as const;
export type Usage = (typeof usages)[number];

/** A CA (or any certificate) with its private key, both PEM. */
export interface CertificateAndKey {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CAOptions {
  /** Validity in days (default 365). */
  readonly days?: number;
  readonly now?: Date;
}

export interface IssueOptions {
  readonly ca: CertificateAndKey;
  readonly commonName: string;
  /** Subject O= entries; Kubernetes reads them as the client's groups. */
  readonly organizations?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** `server` → EKU serverAuth; `client` → EKU clientAuth. */
  readonly usage: Usage;
  /** Validity in days (default 30). */
  readonly days?: number;
  readonly now?: Date;
}

export interface KeyPairPem {
  /** PKCS#8 `PRIVATE KEY`. */
  readonly privateKeyPem: string;
  /** SPKI `PUBLIC KEY`. */
  readonly publicKeyPem: string;
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive, as RFC 5280 requires
  return bytes.toString("hex");
}

function validity(now: Date | undefined, days: number): { notBefore: Date; notAfter: Date } {
  const t = (now ?? new Date()).getTime();
  return { notBefore: new Date(t - SKEW_MS), notAfter: new Date(t + days * DAY_MS) };
}

function subject(commonName: string, organizations: readonly string[] = []): x509.JsonName {
  return [...organizations.map((o) => ({ O: [o] })), { CN: [commonName] }];
}

async function newKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return (await subtle.generateKey(EC_KEY, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
}

function withNewline(pem: string): string {
  return pem.endsWith("\n") ? pem : `${pem}\n`;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return withNewline(x509.PemConverter.encode(await subtle.exportKey("pkcs8", key), "PRIVATE KEY"));
}

/** Imports a PEM private key (EC P-256/P-384 or RSA) as a WebCrypto signing key. */
function signingKey(keyPem: string): { key: CryptoKey; algorithm: webcrypto.Algorithm | webcrypto.EcdsaParams } {
  const keyObject = createPrivateKey(keyPem);
  if (keyObject.asymmetricKeyType === "ec") {
    const curve = keyObject.asymmetricKeyDetails?.namedCurve === "secp384r1" ? "P-384" : "P-256";
    const key = keyObject.toCryptoKey({ name: "ECDSA", namedCurve: curve }, false, ["sign"]);
    return { key: key as CryptoKey, algorithm: EC_SIGN };
  }
  if (keyObject.asymmetricKeyType === "rsa") {
    const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    return { key: keyObject.toCryptoKey(algorithm, false, ["sign"]) as CryptoKey, algorithm };
  }
  throw new Error(
    `ca.keyPem: unsupported key type ${String(keyObject.asymmetricKeyType)}; expected an EC (P-256/P-384) or RSA private key`,
  );
}

/** A self-signed CA certificate (basicConstraints CA, keyCertSign) and its key. */
export async function generateCA(commonName: string, opts: CAOptions = {}): Promise<CertificateAndKey> {
  if (!commonName) throw new Error("generateCA: commonName is empty; expected a non-empty name for the CA");
  const keys = await newKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: subject(commonName),
    ...validity(opts.now, opts.days ?? 365),
    keys,
    signingAlgorithm: EC_SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: withNewline(cert.toString("pem")), keyPem: await privateKeyPem(keys.privateKey) };
}

function checkIssueOptions(opts: IssueOptions): void {
  if (!opts.commonName) throw new Error("issueCertificate: commonName is empty; expected a non-empty subject CN");
  if (!usages.includes(opts.usage)) {
    throw new Error(`issueCertificate: usage ${String(opts.usage)} is not supported; expected one of ${usages.join(", ")}`);
  }
  for (const ip of opts.ipAddresses ?? []) {
    if (isIP(ip) === 0) throw new Error(`issueCertificate: ipAddresses entry ${ip} is not an IP address; expected IPv4 or IPv6`);
  }
}

function altNames(opts: IssueOptions): x509.Extension[] {
  const names = [
    ...(opts.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(opts.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  return names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, false)] : [];
}

/** A leaf certificate signed by `ca`, for TLS serving or client authentication, and its new key. */
export async function issueCertificate(opts: IssueOptions): Promise<CertificateAndKey> {
  checkIssueOptions(opts);
  const caCert = new x509.X509Certificate(opts.ca.certPem);
  const signer = signingKey(opts.ca.keyPem);
  const keys = await newKeyPair();
  const eku = opts.usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: subject(opts.commonName, opts.organizations),
    issuer: caCert.subject,
    ...validity(opts.now, opts.days ?? 30),
    publicKey: keys.publicKey,
    signingKey: signer.key,
    signingAlgorithm: signer.algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([eku], false),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ...altNames(opts),
    ],
  });
  return { certPem: withNewline(cert.toString("pem")), keyPem: await privateKeyPem(keys.privateKey) };
}

/** A bare key pair (e.g. the service-account token signer). */
export async function generateKeyPair(): Promise<KeyPairPem> {
  const keys = await newKeyPair();
  const privatePem = await privateKeyPem(keys.privateKey);
  const publicKeyPem = createPublicKey(privatePem).export({ type: "spki", format: "pem" }).toString();
  return { privateKeyPem: privatePem, publicKeyPem };
}

/** The `caBundle` form Kubernetes expects: base64 of one or more concatenated PEM certificates. */
export function toCaBundle(...pems: readonly string[]): string {
  const joined = pems.map((p) => (p.endsWith("\n") ? p : `${p}\n`)).join("");
  return Buffer.from(joined, "utf8").toString("base64");
}

/** The PEM text inside a `caBundle`. Throws when it holds no certificate. */
export function fromCaBundle(caBundle: string): string {
  const pem = Buffer.from(caBundle, "base64").toString("utf8");
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new Error("caBundle: no PEM certificate inside; expected base64 of one or more PEM certificates");
  }
  return pem;
}
