/**
 * Delegated authorization: one SubjectAccessReview per request (resource or non-resource
 * attributes), allow and deny cached for 10 s; `system:masters` is always allowed.
 * @module
 */
import type { AccessReviewer, SubjectAccessReviewSpec, UserInfo } from "./auth-types.ts";
import type { RequestInfo } from "./request-info.ts";
import { createTtlCache } from "./ttl-cache.ts";
import type { Clock } from "./types.ts";

export const MASTERS_GROUP = "system:masters";

export interface Decision {
  readonly allowed: boolean;
  readonly reason?: string;
}

export interface Authorizer {
  /** Rejects when the review itself fails (→ 500). */
  authorize(user: UserInfo, info: RequestInfo): Promise<Decision>;
}

export interface AuthorizerDeps {
  readonly reviewer: AccessReviewer;
  readonly clock: Clock;
  readonly cacheTtlMs?: number;
}

export function accessReviewSpec(user: UserInfo, info: RequestInfo): SubjectAccessReviewSpec {
  const who = {
    user: user.username,
    ...(user.uid === undefined ? {} : { uid: user.uid }),
    groups: user.groups,
    ...(Object.keys(user.extra).length === 0 ? {} : { extra: user.extra }),
  };
  if (info.kind === "nonresource") return { ...who, nonResourceAttributes: { path: info.path, verb: info.verb } };
  return {
    ...who,
    resourceAttributes: {
      ...(info.namespace === undefined ? {} : { namespace: info.namespace }),
      verb: info.verb,
      group: info.group,
      version: info.version,
      resource: info.resource,
      ...(info.subresource === undefined ? {} : { subresource: info.subresource }),
      ...(info.name === undefined ? {} : { name: info.name }),
    },
  };
}

/** A cache key that does not depend on property order or group order. */
function cacheKey(spec: SubjectAccessReviewSpec): string {
  const extra = Object.entries(spec.extra ?? {})
    .map(([k, v]) => [k, [...v].sort()] as const)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify([spec.user, spec.uid ?? "", [...spec.groups].sort(), extra, spec.resourceAttributes ?? null, spec.nonResourceAttributes ?? null]);
}

export function createAuthorizer(deps: AuthorizerDeps): Authorizer {
  const cache = createTtlCache<Decision>({ clock: deps.clock, ttlMs: deps.cacheTtlMs ?? 10_000 });
  return {
    async authorize(user, info) {
      if (user.groups.includes(MASTERS_GROUP)) return { allowed: true };
      const spec = accessReviewSpec(user, info);
      const key = cacheKey(spec);
      const hit = cache.get(key);
      if (hit !== undefined) return hit;
      const status = await deps.reviewer.review(spec);
      const decision: Decision = { allowed: status.allowed === true && status.denied !== true, ...(status.reason ? { reason: status.reason } : {}) };
      cache.set(key, decision);
      return decision;
    },
  };
}
