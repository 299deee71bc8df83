/**
 * Client-certificate checks: the peer's chain must lead to one of the trusted CAs (through the
 * intermediates the peer sent), every certificate be within its validity, and the usages allow
 * client authentication.
 * @module
 */
import { X509Certificate } from "node:crypto";

const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const ANY_USAGE = "2.5.29.37.0";
const MAX_DEPTH = 8;

export type ChainResult = { readonly ok: true; readonly leaf: X509Certificate } | { readonly ok: false; readonly reason: string };

function allowsClientAuth(cert: X509Certificate): boolean {
  const eku = cert.keyUsage as string[] | undefined;
  return eku === undefined || eku.length === 0 || eku.includes(CLIENT_AUTH) || eku.includes(ANY_USAGE);
}

function withinValidity(cert: X509Certificate, now: number): boolean {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  return !Number.isNaN(from) && !Number.isNaN(to) && from <= now && now <= to;
}

function issuedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function parseChain(chain: readonly Uint8Array[]): X509Certificate[] | undefined {
  try {
    return chain.map((der) => new X509Certificate(der));
  } catch {
    return undefined;
  }
}

function checkCert(cert: X509Certificate, now: number): string | undefined {
  if (!withinValidity(cert, now)) return `x509: certificate "${subjectCN(cert)}" has expired or is not yet valid`;
  if (!allowsClientAuth(cert)) return `x509: certificate "${subjectCN(cert)}" specifies an incompatible key usage (clientAuth required)`;
  return undefined;
}

/**
 * Verifies a DER chain (leaf first) against `roots` for client authentication at `now` (ms).
 * Intermediates must be CAs; the root found must itself be valid.
 */
export function verifyClientChain(chain: readonly Uint8Array[], roots: readonly X509Certificate[], now: number): ChainResult {
  const certs = parseChain(chain);
  if (certs === undefined) return { ok: false, reason: "x509: the client certificate could not be parsed" };
  const [leaf, ...intermediates] = certs;
  if (leaf === undefined) return { ok: false, reason: "x509: no client certificate" };
  if (roots.length === 0) return { ok: false, reason: "x509: no trusted CA configured" };
  let current = leaf;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const problem = checkCert(current, now);
    if (problem !== undefined) return { ok: false, reason: problem };
    const root = roots.find((r) => r.fingerprint256 === current.fingerprint256 || issuedBy(current, r));
    if (root !== undefined) {
      return withinValidity(root, now) ? { ok: true, leaf } : { ok: false, reason: `x509: CA "${subjectCN(root)}" has expired or is not yet valid` };
    }
    const next = intermediates.find((c) => c.ca && c !== current && issuedBy(current, c));
    if (next === undefined) return { ok: false, reason: "x509: certificate signed by unknown authority" };
    current = next;
  }
  return { ok: false, reason: "x509: certificate chain too long" };
}

export interface Subject {
  readonly cn: string;
  readonly organizations: readonly string[];
}

/** Undoes OpenSSL's RFC 2253 escaping: `\,` → `,` and `\0A` (hex byte) → the byte. */
function unescapeDn(value: string): string {
  const chars = Array.from(value);
  const bytes: number[] = [];
  for (let i = 0; i < chars.length; i++) {
    const pair = chars[i] === "\\" ? `${chars[i + 1] ?? ""}${chars[i + 2] ?? ""}` : "";
    if (/^[0-9A-Fa-f]{2}$/.test(pair)) {
      bytes.push(parseInt(pair, 16));
      i += 2;
      continue;
    }
    if (chars[i] === "\\" && i + 1 < chars.length) i++;
    bytes.push(...Buffer.from(chars[i] as string, "utf8"));
  }
  return Buffer.from(bytes).toString("utf8");
}

/** CN and O of the subject, from Node's one-attribute-per-line rendering. */
export function subjectOf(cert: X509Certificate): Subject {
  let cn = "";
  const organizations: string[] = [];
  for (const line of cert.subject.split("\n")) {
    const eq = line.indexOf("=");
    const key = line.slice(0, eq);
    const value = unescapeDn(line.slice(eq + 1));
    if (key === "CN" && cn === "") cn = value;
    else if (key === "O") organizations.push(value);
  }
  return { cn, organizations };
}

function subjectCN(cert: X509Certificate): string {
  try {
    return subjectOf(cert).cn;
  } catch {
    return "";
  }
}

/** The DER chain the TLS peer sent, leaf first; empty without TLS or a client certificate. */
export function peerChain(socket: unknown): Buffer[] {
  const s = socket as { getPeerCertificate?: (detailed: boolean) => PeerCert | null } | undefined;
  if (typeof s?.getPeerCertificate !== "function") return [];
  const out: Buffer[] = [];
  let cert: PeerCert | null | undefined = s.getPeerCertificate(true);
  while (cert?.raw !== undefined && out.length < MAX_DEPTH) {
    out.push(cert.raw);
    if (cert.issuerCertificate === undefined || cert.issuerCertificate === cert) break;
    cert = cert.issuerCertificate;
  }
  return out;
}

interface PeerCert {
  readonly raw?: Buffer;
  readonly issuerCertificate?: PeerCert;
}
