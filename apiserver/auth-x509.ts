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

interface Verified {
  readonly ok: true;
  readonly leaf: X509Certificate;
  /** When every certificate on the verified path is valid (ms). */
  readonly from: number;
  readonly to: number;
}

function validity(cert: X509Certificate): { from: number; to: number } {
  return { from: Date.parse(cert.validFrom), to: Date.parse(cert.validTo) };
}

function verifyUncached(chain: readonly Uint8Array[], roots: readonly X509Certificate[], now: number): Verified | { ok: false; reason: string } {
  const certs = parseChain(chain);
  if (certs === undefined) return { ok: false, reason: "x509: the client certificate could not be parsed" };
  const [leaf, ...intermediates] = certs;
  if (leaf === undefined) return { ok: false, reason: "x509: no client certificate" };
  if (roots.length === 0) return { ok: false, reason: "x509: no trusted CA configured" };
  let current = leaf;
  let from = Number.NEGATIVE_INFINITY;
  let to = Number.POSITIVE_INFINITY;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const problem = checkCert(current, now);
    if (problem !== undefined) return { ok: false, reason: problem };
    const v = validity(current);
    from = Math.max(from, v.from);
    to = Math.min(to, v.to);
    const root = roots.find((r) => r.fingerprint256 === current.fingerprint256 || issuedBy(current, r));
    if (root !== undefined) {
      if (!withinValidity(root, now)) return { ok: false, reason: `x509: CA "${subjectCN(root)}" has expired or is not yet valid` };
      const r = validity(root);
      return { ok: true, leaf, from: Math.max(from, r.from), to: Math.min(to, r.to) };
    }
    const next = intermediates.find((c) => c.ca && c !== current && issuedBy(current, c));
    if (next === undefined) return { ok: false, reason: "x509: certificate signed by unknown authority" };
    current = next;
  }
  return { ok: false, reason: "x509: certificate chain too long" };
}

/** Successful verifications by chain (the array {@link peerChain} keeps per connection) and roots. */
const verified = new WeakMap<readonly Uint8Array[], { readonly roots: readonly X509Certificate[]; readonly result: Verified }>();

/**
 * Verifies a DER chain (leaf first) against `roots` for client authentication at `now` (ms).
 * Intermediates must be CAs; the root found must itself be valid. A success is remembered for
 * the same chain array and roots array until a certificate on its path expires, so requests on
 * one connection verify signatures once.
 */
export function verifyClientChain(chain: readonly Uint8Array[], roots: readonly X509Certificate[], now: number): ChainResult {
  const hit = verified.get(chain);
  if (hit !== undefined && hit.roots === roots && hit.result.from <= now && now <= hit.result.to) return { ok: true, leaf: hit.result.leaf };
  const result = verifyUncached(chain, roots, now);
  if (!result.ok) return result;
  verified.set(chain, { roots, result });
  return { ok: true, leaf: result.leaf };
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

interface PeerCert {
  readonly raw?: Buffer;
  readonly issuerCertificate?: PeerCert;
}

interface PeerSocket {
  getPeerCertificate?: (detailed: boolean) => PeerCert | null;
  getPeerX509Certificate?: () => X509Certificate | undefined;
}

function readChain(s: PeerSocket): Buffer[] {
  const out: Buffer[] = [];
  let cert: PeerCert | null | undefined = s.getPeerCertificate?.(true);
  while (cert?.raw !== undefined && out.length < MAX_DEPTH) {
    out.push(cert.raw);
    if (cert.issuerCertificate === undefined || cert.issuerCertificate === cert) break;
    cert = cert.issuerCertificate;
  }
  return out;
}

/** The chain read last on a connection, and the leaf it starts with. */
const chains = new WeakMap<object, { readonly leaf: Buffer; readonly chain: Buffer[] }>();

/**
 * The DER chain the TLS peer sent, leaf first; empty without TLS or a client certificate. Read
 * once per connection (the detailed read is costly) and again only if the peer's leaf changed.
 */
export function peerChain(socket: unknown): Buffer[] {
  const s = socket as PeerSocket | undefined;
  if (s === undefined || s === null || typeof s.getPeerCertificate !== "function") return [];
  const leaf = typeof s.getPeerX509Certificate === "function" ? s.getPeerX509Certificate()?.raw : undefined;
  if (leaf === undefined) return readChain(s);
  const hit = chains.get(s);
  if (hit !== undefined && hit.leaf.equals(leaf)) return hit.chain;
  const chain = readChain(s);
  chains.set(s, { leaf, chain });
  return chain;
}
