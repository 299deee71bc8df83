/**
 * The express middleware that authenticates, strips the front-proxy headers, and authorizes
 * every request except the health paths.
 * @module
 */
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { Logger } from "../kube/log.ts";
import type { UserInfo } from "./auth-types.ts";
import { peerChain } from "./auth-x509.ts";
import type { Authenticator, DistinctHeaders } from "./authn.ts";
import type { Authorizer } from "./authz.ts";
import { forbidden, internalError, unauthorized } from "./errors.ts";
import type { StatusError } from "./errors.ts";
import { requestInfo } from "./request-info.ts";
import type { RequestInfo } from "./request-info.ts";

export const HEALTH_PATHS: ReadonlySet<string> = new Set(["/healthz", "/livez", "/readyz"]);

export interface AuthMiddlewareDeps {
  readonly authenticator: Authenticator;
  readonly authorizer: Authorizer;
  readonly log: Logger;
}

/** What the handlers see of the request's identity (res.locals.auth). */
export interface RequestAuth {
  readonly user: UserInfo;
  readonly info: RequestInfo;
}

function strip(req: Request, names: readonly string[]): void {
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

export function authMiddleware(deps: AuthMiddlewareDeps): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (HEALTH_PATHS.has(req.path)) return next();
    const headers = req.headersDistinct as DistinctHeaders;
    const input = { peerChain: peerChain(req.socket), headers };
    const stripped = deps.authenticator.strippedHeaders(headers);
    const run = async (): Promise<void> => {
      let authn;
      try {
        authn = await deps.authenticator.authenticate(input);
      } catch (err) {
        deps.log.warn({ error: err instanceof Error ? err.message : String(err) }, "authentication failed");
        authn = { ok: false as const, reason: "authentication error" };
      } finally {
        strip(req, stripped);
      }
      if (!authn.ok) return next(unauthorized());
      const url = new URL(req.originalUrl, "http://local");
      const info = requestInfo(req.method, url.pathname, url.searchParams);
      let decision;
      try {
        decision = await deps.authorizer.authorize(authn.user, info);
      } catch (err) {
        deps.log.warn({ user: authn.user.username, error: err instanceof Error ? err.message : String(err) }, "authorization failed");
        return next(internalError("the SubjectAccessReview could not be completed"));
      }
      if (!decision.allowed) return next(denial(authn.user, info, decision.reason));
      res.locals["auth"] = { user: authn.user, info } satisfies RequestAuth;
      next();
    };
    void run();
  };
}
