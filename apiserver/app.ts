/**
 * The request handler of the aggregated Snapshot API, on node:http's own request and response
 * (no framework: loading express took about 50 ms of a cold start's main thread, for a handful
 * of routes; docs/snapshots-cold-start.md). It never listens: main.ts serves it over TLS (tests
 * over a loopback listener).
 * @module
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { SNAPSHOT_RESOURCE } from "../api/snapshot-names.ts";
import type { Logger } from "../kube/log.ts";
import type { Authenticator } from "./authn.ts";
import type { Authorizer } from "./authz.ts";
import { handleDelete } from "./delete.ts";
import { asStatusError, methodNotAllowed, pathNotFound } from "./errors.ts";
import type { SnapshotIndex } from "./index.ts";
import { authorizeRequest } from "./request-auth.ts";
import type { RequestAuth } from "./request-auth.ts";
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

/** Served to anyone, without authentication (the kubelet's probes). */
const HEALTH_PATHS: ReadonlySet<string> = new Set(["/healthz", "/livez", "/readyz"]);

/** The request's path as sent, without its query. */
function pathOf(req: IncomingMessage): string {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}

function health(index: SnapshotIndex, path: string, res: ServerResponse): void {
  const ok = path !== "/readyz" || index.ready();
  const body = Buffer.from(ok ? "ok" : "snapshot index not ready: the first refresh has not finished", "utf8");
  res.writeHead(ok ? 200 : 503, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": body.length });
  res.end(body);
}

type Context = WatchContext & ResourceContext;
type ResourceInfo = Extract<RequestInfo, { kind: "resource" }>;

function watchTarget(ctx: Context, info: ResourceInfo, req: IncomingMessage, res: ServerResponse): void {
  const { namespace, name } = info;
  if (name !== undefined && namespace === undefined) throw pathNotFound();
  handleWatch(ctx, req, res, { ...(namespace === undefined ? {} : { namespace }), ...(name === undefined ? {} : { name }) });
}

function serveResource(ctx: Context, auth: RequestAuth & { readonly info: ResourceInfo }, req: IncomingMessage, res: ServerResponse): void | Promise<void> {
  const { info } = auth;
  if (info.resource !== SNAPSHOT_RESOURCE || info.subresource !== undefined) throw pathNotFound();
  if (UNSUPPORTED_VERBS.has(info.verb)) throw methodNotAllowed(info.verb);
  const { namespace, name } = info;
  if (info.verb === "list") return handleList(ctx, req, res, namespace);
  if (info.verb === "watch") return watchTarget(ctx, info, req, res);
  if (namespace === undefined || name === undefined) throw pathNotFound();
  if (info.verb === "get") return handleGet(ctx, req, res, { namespace, name });
  if (info.verb === "delete") return handleDelete(ctx, req, res, { namespace, name, username: auth.user.username });
  throw methodNotAllowed(info.verb);
}

export function createApp(deps: AppDeps): RequestListener {
  const clock = deps.clock ?? realClock;
  const ctx: Context = {
    index: deps.index,
    clock,
    after: deps.after ?? realAfter,
    defaultTimeoutSeconds: deps.defaultWatchTimeoutSeconds ?? 1800,
    log: deps.log,
  };
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = pathOf(req);
    if (HEALTH_PATHS.has(path)) return health(deps.index, path, res);
    const auth = await authorizeRequest(deps, req);
    if (auth.info.kind === "nonresource") return serveNonResource(req, res, path);
    return serveResource(ctx, { user: auth.user, info: auth.info }, req, res);
  };
  // Every failure becomes a Status (errors.ts); one that comes after the headers ends the connection.
  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown): void => {
    const status = asStatusError(err);
    if ((status.status.code ?? 500) >= 500) deps.log.error({ method: req.method, path: pathOf(req), error: status.message }, "request failed");
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendStatus(res, status);
  };
  return (req, res) => void serve(req, res).catch((err: unknown) => fail(req, res, err));
}
