/**
 * The admission webhook as an express app: POST /mutate and /validate take AdmissionReview v1.
 * Malformed input gets a 400 with a clear message; an internal error denies (fail closed).
 * @module
 */
import express from "express";
import type { Express, NextFunction, Request, Response } from "express";
import type { Logger } from "../kube/log.ts";
import type { HandlerDeps } from "./handlers.ts";
import type { RequestLookups } from "./lookups.ts";
import type { Reason } from "../kube/status.ts";
import { failure, reasonForCode } from "../kube/status.ts";
import { mutate, validate } from "./handlers.ts";
import type { AdmissionRequest, AdmissionResponse } from "./review.ts";
import { deny, parseReview, reviewEnvelope } from "./review.ts";

export interface AppDeps extends HandlerDeps {
  readonly log: Logger;
  /** Whether the caches are synced; /readyz answers 503 until then. */
  readonly ready: () => boolean;
  /** Per request, what the caches cannot answer (see lookups.ts); a failure leaves the cache's answer. */
  readonly prepare?: (req: AdmissionRequest) => Promise<RequestLookups>;
  readonly now?: () => number;
}

export const BODY_LIMIT = "3mb";

function liveLookupFailed(deps: AppDeps, r: AdmissionRequest, err: unknown): RequestLookups {
  deps.log.warn({ uid: r.uid, err: String(err) }, "live lookup failed; using the cache");
  return {};
}

type Handler = (req: AdmissionRequest, deps: HandlerDeps) => AdmissionResponse;

function problem(res: Response, reason: Reason, message: string): void {
  const status = failure(reason, message);
  res.status(status.code ?? 500).type("application/json").send(status);
}

function reviewRoute(deps: AppDeps, action: "mutate" | "validate", handler: Handler) {
  const now = deps.now ?? performance.now.bind(performance);
  return async (req: Request, res: Response): Promise<void> => {
    if (!req.is("application/json")) return problem(res, "UnsupportedMediaType", "Content-Type must be application/json");
    const parsed = parseReview(req.body);
    if (!parsed.ok) {
      deps.log.warn({ action, reason: parsed.message }, "malformed admission review");
      return problem(res, "BadRequest", `malformed AdmissionReview: ${parsed.message}`);
    }
    const r = parsed.request;
    const start = now();
    const overlay = action === "validate" && deps.prepare ? await deps.prepare(r).catch((err: unknown) => liveLookupFailed(deps, r, err)) : {};
    let response: AdmissionResponse;
    try {
      response = handler(r, { ...deps, lookups: { ...deps.lookups, ...overlay } });
    } catch (err) {
      deps.log.error({ action, uid: r.uid, err: String(err) }, "admission handler failed; denying");
      response = deny(r.uid, "InternalError", "internal error in the podwarden admission webhook; the request was denied (fail closed), retry or check the webhook logs");
    }
    deps.log.debug({ action, uid: r.uid, op: r.operation, kind: r.kind.kind, ns: r.namespace, name: r.name, dryRun: r.dryRun, allowed: response.allowed, ms: now() - start }, "admission review");
    res.json(reviewEnvelope(response));
  };
}

/** Body parser failures (bad JSON, too large) as clear 4xx answers. */
function bodyErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  const e = err as { type?: string; status?: number; message?: string };
  if (e.type === "entity.too.large") return problem(res, "RequestEntityTooLarge", `request body is larger than ${BODY_LIMIT}`);
  if (e.type === "entity.parse.failed") return problem(res, "BadRequest", `request body is not valid JSON: ${e.message ?? "parse error"}`);
  if (typeof e.status === "number" && e.status >= 400 && e.status < 500) return problem(res, reasonForCode(e.status), e.message ?? "bad request");
  next(err);
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.use(express.json({ limit: BODY_LIMIT, strict: false }));
  app.post("/mutate", reviewRoute(deps, "mutate", mutate));
  app.post("/validate", reviewRoute(deps, "validate", validate));
  app.get(["/healthz", "/livez"], (_req, res) => void res.type("text/plain").send("ok"));
  app.get("/readyz", (_req, res) => void (deps.ready() ? res.type("text/plain").send("ok") : res.status(503).type("text/plain").send("caches not synced")));
  app.use((_req: Request, res: Response) => problem(res, "NotFound", "not found: this webhook serves POST /mutate and POST /validate"));
  app.use(bodyErrors);
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    deps.log.error({ err: String(err) }, "unexpected error");
    problem(res, "InternalError", "internal error");
  });
  return app;
}
