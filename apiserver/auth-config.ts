/**
 * Reads ConfigMap `kube-system/extension-apiserver-authentication`: the client CA and the
 * front-proxy (requestheader) settings, whose list fields are JSON-array strings.
 * @module
 */
import { X509Certificate } from "node:crypto";
import type { AuthConfig, RequestHeaderConfig } from "./auth-types.ts";

export const AUTH_CONFIGMAP = { namespace: "kube-system", name: "extension-apiserver-authentication" } as const;

export const AUTH_KEYS = {
  clientCA: "client-ca-file",
  requestHeaderCA: "requestheader-client-ca-file",
  allowedNames: "requestheader-allowed-names",
  usernameHeaders: "requestheader-username-headers",
  groupHeaders: "requestheader-group-headers",
  extraHeaderPrefixes: "requestheader-extra-headers-prefix",
  uidHeaders: "requestheader-uid-headers",
} as const;

export interface ParsedAuthConfig {
  readonly config: AuthConfig;
  /** One message per unusable field, naming it and what would be accepted. */
  readonly errors: readonly string[];
}

/** Every certificate in a PEM bundle; errors name the key and block. */
export function parsePemBundle(pem: string, key: string, errors: string[]): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const certs: X509Certificate[] = [];
  blocks.forEach((block, i) => {
    try {
      certs.push(new X509Certificate(block));
    } catch (err) {
      errors.push(`${AUTH_CONFIGMAP.name}: ${key}: certificate ${i + 1} is not a valid X.509 PEM certificate: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  if (pem.trim() !== "" && blocks.length === 0) errors.push(`${AUTH_CONFIGMAP.name}: ${key}: expected PEM "BEGIN CERTIFICATE" blocks`);
  return certs;
}

/** A JSON array of strings stored as a string (`"[\"X-Remote-User\"]"`); absent → []. */
export function parseStringArray(raw: string | undefined, key: string, errors: string[]): string[] {
  if (raw === undefined || raw.trim() === "") return [];
  try {
    const value: unknown = JSON.parse(raw);
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value.filter((v) => v !== "");
  } catch {
    // reported below
  }
  errors.push(`${AUTH_CONFIGMAP.name}: ${key}: expected a JSON array of strings such as ["X-Remote-User"], got ${JSON.stringify(raw.slice(0, 80))}`);
  return [];
}

function requestHeader(data: Readonly<Record<string, string>>, errors: string[]): RequestHeaderConfig | undefined {
  const pem = data[AUTH_KEYS.requestHeaderCA];
  if (pem === undefined || pem.trim() === "") return undefined;
  const ca = parsePemBundle(pem, AUTH_KEYS.requestHeaderCA, errors);
  const usernameHeaders = parseStringArray(data[AUTH_KEYS.usernameHeaders], AUTH_KEYS.usernameHeaders, errors);
  if (ca.length === 0) return undefined;
  if (usernameHeaders.length === 0) {
    errors.push(`${AUTH_CONFIGMAP.name}: ${AUTH_KEYS.usernameHeaders}: must name at least one header, e.g. ["X-Remote-User"]`);
    return undefined;
  }
  return {
    ca,
    allowedNames: parseStringArray(data[AUTH_KEYS.allowedNames], AUTH_KEYS.allowedNames, errors),
    usernameHeaders,
    groupHeaders: parseStringArray(data[AUTH_KEYS.groupHeaders], AUTH_KEYS.groupHeaders, errors),
    extraHeaderPrefixes: parseStringArray(data[AUTH_KEYS.extraHeaderPrefixes], AUTH_KEYS.extraHeaderPrefixes, errors),
    uidHeaders: parseStringArray(data[AUTH_KEYS.uidHeaders], AUTH_KEYS.uidHeaders, errors),
  };
}

export function parseAuthConfigMap(data: Readonly<Record<string, string>> | undefined): ParsedAuthConfig {
  const errors: string[] = [];
  const d = data ?? {};
  const clientPem = d[AUTH_KEYS.clientCA];
  const clientCA = clientPem === undefined ? [] : parsePemBundle(clientPem, AUTH_KEYS.clientCA, errors);
  const rh = requestHeader(d, errors);
  return { config: { clientCA, ...(rh === undefined ? {} : { requestHeader: rh }) }, errors };
}

/** A fixed configuration (tests; or a server started with explicit files). */
export function staticAuthConfig(config: AuthConfig): { current(): AuthConfig } {
  return { current: () => config };
}
