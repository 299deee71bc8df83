/**
 * Authentication in Kubernetes' order: front-proxy client certificate (then X-Remote-* headers),
 * client certificate against client-ca-file, bearer token through TokenReview (cached).
 * `system:authenticated` is added to every authenticated user.
 * @module
 */
import { createHash } from "node:crypto";
import type { AuthConfigSource, RequestHeaderConfig, TokenReviewer, TokenReviewStatus, UserInfo } from "./auth-types.ts";
import { subjectOf, verifyClientChain } from "./auth-x509.ts";
import { createTtlCache } from "./ttl-cache.ts";
import type { Clock } from "./types.ts";

export const AUTHENTICATED_GROUP = "system:authenticated";

/** Header names (lower case) to their values, one per header line, as `req.headersDistinct`. */
export type DistinctHeaders = Readonly<Record<string, readonly string[] | undefined>>;

export interface AuthnInput {
  /** DER certificates the TLS peer sent, leaf first. */
  readonly peerChain: readonly Uint8Array[];
  readonly headers: DistinctHeaders;
}

export type AuthnResult =
  | { readonly ok: true; readonly user: UserInfo; readonly method: "front-proxy" | "x509" | "token" }
  | { readonly ok: false; readonly reason: string };

export interface Authenticator {
  authenticate(input: AuthnInput): Promise<AuthnResult>;
  /** Header names (lower case) that must never reach the handlers. */
  strippedHeaders(headers: DistinctHeaders): string[];
}

export interface AuthenticatorDeps {
  readonly config: AuthConfigSource;
  readonly tokens: TokenReviewer;
  readonly clock: Clock;
  readonly cacheTtlMs?: number;
}

function withAuthenticatedGroup(user: UserInfo): UserInfo {
  return user.groups.includes(AUTHENTICATED_GROUP) ? user : { ...user, groups: [...user.groups, AUTHENTICATED_GROUP] };
}

function first(headers: DistinctHeaders, names: readonly string[]): string | undefined {
  for (const n of names) {
    const v = headers[n.toLowerCase()]?.find((x) => x !== "");
    if (v !== undefined) return v;
  }
  return undefined;
}

function all(headers: DistinctHeaders, names: readonly string[]): string[] {
  return names.flatMap((n) => headers[n.toLowerCase()] ?? []);
}

function decodeExtraKey(raw: string): string {
  try {
    return decodeURIComponent(raw).toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}

function extras(headers: DistinctHeaders, prefixes: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const prefix of prefixes.map((p) => p.toLowerCase())) {
    for (const [name, values] of Object.entries(headers)) {
      if (!name.startsWith(prefix) || name.length === prefix.length || values === undefined) continue;
      const key = decodeExtraKey(name.slice(prefix.length));
      out[key] = [...(out[key] ?? []), ...values];
    }
  }
  return out;
}

function fromRequestHeaders(input: AuthnInput, rh: RequestHeaderConfig, now: number): UserInfo | undefined {
  const chain = verifyClientChain(input.peerChain, rh.ca, now);
  if (!chain.ok) return undefined;
  if (rh.allowedNames.length > 0 && !rh.allowedNames.includes(subjectOf(chain.leaf).cn)) return undefined;
  const username = first(input.headers, rh.usernameHeaders);
  if (username === undefined) return undefined;
  const uid = first(input.headers, rh.uidHeaders);
  return {
    username,
    ...(uid === undefined ? {} : { uid }),
    groups: all(input.headers, rh.groupHeaders),
    extra: extras(input.headers, rh.extraHeaderPrefixes),
  };
}

function bearerToken(headers: DistinctHeaders): string | undefined {
  const auth = headers["authorization"]?.[0];
  const m = auth === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(auth);
  return m?.[1];
}

function userFromReview(status: TokenReviewStatus): UserInfo | undefined {
  if (status.authenticated !== true || !status.user?.username) return undefined;
  const u = status.user;
  return { username: u.username as string, ...(u.uid ? { uid: u.uid } : {}), groups: [...(u.groups ?? [])], extra: { ...(u.extra ?? {}) } };
}

export function createAuthenticator(deps: AuthenticatorDeps): Authenticator {
  const cache = createTtlCache<UserInfo | null>({ clock: deps.clock, ttlMs: deps.cacheTtlMs ?? 10_000 });

  async function byToken(token: string): Promise<UserInfo | undefined> {
    const key = createHash("sha256").update(token).digest("hex");
    const hit = cache.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const user = userFromReview(await deps.tokens.review(token)) ?? null;
    cache.set(key, user);
    return user ?? undefined;
  }

  return {
    async authenticate(input) {
      const config = deps.config.current();
      const now = deps.clock.now();
      const rh = config?.requestHeader;
      const proxied = rh === undefined ? undefined : fromRequestHeaders(input, rh, now);
      if (proxied) return { ok: true, user: withAuthenticatedGroup(proxied), method: "front-proxy" };
      const direct = input.peerChain.length > 0 && config ? verifyClientChain(input.peerChain, config.clientCA, now) : undefined;
      if (direct?.ok) {
        const subject = subjectOf(direct.leaf);
        if (subject.cn !== "") return { ok: true, user: withAuthenticatedGroup({ username: subject.cn, groups: [...subject.organizations], extra: {} }), method: "x509" };
      }
      const token = bearerToken(input.headers);
      if (token === undefined) return { ok: false, reason: "no valid client certificate or bearer token" };
      const user = await byToken(token);
      return user ? { ok: true, user: withAuthenticatedGroup(user), method: "token" } : { ok: false, reason: "the bearer token was not accepted by TokenReview" };
    },
    strippedHeaders(headers) {
      const rh = deps.config.current()?.requestHeader;
      const exact = new Set([...(rh?.usernameHeaders ?? []), ...(rh?.groupHeaders ?? []), ...(rh?.uidHeaders ?? [])].map((h) => h.toLowerCase()));
      const prefixes = ["x-remote-", ...(rh?.extraHeaderPrefixes ?? []).map((p) => p.toLowerCase())];
      return Object.keys(headers).filter((h) => exact.has(h) || prefixes.some((p) => h.startsWith(p)));
    },
  };
}
