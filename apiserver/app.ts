/**
 * The express app of the aggregated Snapshot API. It never listens: main.ts serves it over TLS
 * (tests over a loopback listener).
 * @module
 */
import express from "express";
import type { NextFunction, Request, Response } from "express";
import { SNAPSHOT_RESOURCE } from "../api/snapshot-names.ts";
import type { Logger } from "../kube/log.ts";
import { authMiddleware, HEALTH_PATHS } from "./auth-middleware.ts";
import type { RequestAuth } from "./auth-middleware.ts";
import type { Authenticator } from "./authn.ts";
import type { Authorizer } from "./authz.ts";
import { handleDelete } from "./delete.ts";
import { asStatusError, badRequest, methodNotAllowed, pathNotFound, StatusError } from "./errors.ts";
import type { SnapshotIndex } from "./index.ts";
import { handleGet, handleList } from "./resource.ts";
import type { ResourceContext } from "./resource.ts";
import type { RequestInfo } from "./request-info.ts";
import { sendStatus } from "./respond.ts";
import { serveNonResource } from "./routes-meta.ts";
import { realAfter, realClock } from "./types.ts";
import type { After, Clock } from "./types.ts";
import { handleWatch } from "./watch.ts";
import type { WatchContext } from "./watch.ts";

export interface AppDeps {
  readonly index: SnapshotIndex;
  readonly authenticator: Authenticator;
  readonly authorizer: Authorizer;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Timer for watch timeouts. */
  readonly after?: After;
  /** Watch length when the client gives no timeoutSeconds (Kubernetes: 30–60 min). */
  readonly defaultWatchTimeoutSeconds?: number;
}

const UNSUPPORTED_VERBS: ReadonlySet<string> = new Set(["create", "update", "patch", "deletecollection"]);

function health(index: SnapshotIndex) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!HEALTH_PATHS.has(req.path)) return next();
    const ok = req.path !== "/readyz" || index.ready();
    res
      .status(ok ? 200 : 503)
      .type("text/plain")
      .send(ok ? "ok" : "snapshot index not ready: the first refresh has not finished");
  };
}

type Context = WatchContext & ResourceContext;
type ResourceInfo = Extract<RequestInfo, { kind: "resource" }>;

function watchTarget(ctx: Context, info: ResourceInfo, req: Request, res: Response): void {
  const { namespace, name } = info;
  if (name !== undefined && namespace === undefined) throw pathNotFound();
  handleWatch(ctx, req, res, { ...(namespace === undefined ? {} : { namespace }), ...(name === undefined ? {} : { name }) });
}

function serveResource(ctx: Context, info: ResourceInfo, req: Request, res: Response): void | Promise<void> {
  if (info.resource !== SNAPSHOT_RESOURCE || info.subresource !== undefined) throw pathNotFound();
  if (UNSUPPORTED_VERBS.has(info.verb)) throw methodNotAllowed(info.verb);
  const { namespace, name } = info;
  if (info.verb === "list") return handleList(ctx, req, res, namespace);
  if (info.verb === "watch") return watchTarget(ctx, info, req, res);
  if (namespace === undefined || name === undefined) throw pathNotFound();
  if (info.verb === "get") return handleGet(ctx, req, res, { namespace, name });
  if (info.verb === "delete") return handleDelete(ctx, req, res, { namespace, name });
  throw methodNotAllowed(info.verb);
}

/** body-parser's errors (too large, unreadable) are the client's: 400. */
function bodyError(err: unknown): StatusError | undefined {
  const code = (err as { status?: unknown } | null)?.status;
  if (typeof code !== "number" || code < 400 || code >= 500 || err instanceof StatusError) return undefined;
  return badRequest(`the request body could not be read: ${err instanceof Error ? err.message : String(err)}`);
}

export function createApp(deps: AppDeps): express.Express {
  const clock = deps.clock ?? realClock;
  const ctx: Context = {
    index: deps.index,
    clock,
    after: deps.after ?? realAfter,
    defaultTimeoutSeconds: deps.defaultWatchTimeoutSeconds ?? 1800,
    log: deps.log,
  };
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.use(health(deps.index));
  app.use(authMiddleware({ authenticator: deps.authenticator, authorizer: deps.authorizer, log: deps.log }));
  app.use((req, res, next) => (req.method === "DELETE" ? express.raw({ type: () => true, limit: "256kb" })(req, res, next) : next()));

  app.use(async (req: Request, res: Response) => {
    const { info } = res.locals["auth"] as RequestAuth;
    if (info.kind === "nonresource") return serveNonResource(req, res, req.path);
    return serveResource(ctx, info, req, res);
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = asStatusError(bodyError(err) ?? err);
    if ((status.status.code ?? 500) >= 500) deps.log.error({ method: req.method, path: req.path, error: status.message }, "request failed");
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendStatus(res, status);
  });
  return app;
}
