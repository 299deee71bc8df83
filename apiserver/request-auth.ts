/**
 * Who makes a request, and whether they may: authenticates it, strips the front-proxy headers,
 * and authorizes it (app.ts asks for every request except the health paths).
 * @module
 */
import type { IncomingMessage } from "node:http";
import type { Logger } from "../kube/log.ts";
import type { UserInfo } from "./auth-types.ts";
import { peerChain } from "./auth-x509.ts";
import type { Authenticator, DistinctHeaders } from "./authn.ts";
import type { Authorizer } from "./authz.ts";
import { forbidden, internalError, unauthorized } from "./errors.ts";
import type { StatusError } from "./errors.ts";
import { requestInfo, requestUrl } from "./request-info.ts";
import type { RequestInfo } from "./request-info.ts";

export interface RequestAuthDeps {
  readonly authenticator: Authenticator;
  readonly authorizer: Authorizer;
  readonly log: Logger;
}

/** What the handlers see of the request's identity. */
export interface RequestAuth {
  readonly user: UserInfo;
  readonly info: RequestInfo;
}

function strip(req: IncomingMessage, names: readonly string[]): void {
  if (names.length === 0) return;
  const drop = new Set(names);
  for (const n of names) delete req.headers[n];
  const raw: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (!drop.has((req.rawHeaders[i] as string).toLowerCase())) raw.push(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
  }
  req.rawHeaders.splice(0, req.rawHeaders.length, ...raw);
}

function denial(user: UserInfo, info: RequestInfo, reason: string | undefined): StatusError {
  const because = reason === undefined ? {} : { reason };
  if (info.kind === "nonresource") return forbidden({ user: user.username, verb: info.verb, path: info.path, ...because });
  return forbidden({
    user: user.username,
    verb: info.verb,
    resource: {
      group: info.group,
      resource: info.subresource === undefined ? info.resource : `${info.resource}/${info.subresource}`,
      ...(info.namespace === undefined ? {} : { namespace: info.namespace }),
      ...(info.name === undefined ? {} : { name: info.name }),
    },
    ...because,
  });
}

/**
 * The request's user and what it asks for, once authenticated and authorized; rejects with the
 * StatusError to answer (401, 403, or 500 when the review could not be made).
 */
export async function authorizeRequest(deps: RequestAuthDeps, req: IncomingMessage): Promise<RequestAuth> {
  const headers = req.headersDistinct as DistinctHeaders;
  const input = { peerChain: peerChain(req.socket), headers };
  const stripped = deps.authenticator.strippedHeaders(headers);
  let authn;
  try {
    authn = await deps.authenticator.authenticate(input);
  } catch (err) {
    deps.log.warn({ error: err instanceof Error ? err.message : String(err) }, "authentication failed");
    authn = { ok: false as const, reason: "authentication error" };
  } finally {
    strip(req, stripped);
  }
  if (!authn.ok) throw unauthorized();
  const url = requestUrl(req);
  const info = requestInfo(req.method ?? "GET", url.pathname, url.searchParams);
  let decision;
  try {
    decision = await deps.authorizer.authorize(authn.user, info);
  } catch (err) {
    deps.log.warn({ user: authn.user.username, error: err instanceof Error ? err.message : String(err) }, "authorization failed");
    throw internalError("the SubjectAccessReview could not be completed");
  }
  if (!decision.allowed) throw denial(authn.user, info, decision.reason);
  return { user: authn.user, info };
}
