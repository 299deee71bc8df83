/**
 * Non-resource endpoints: discovery (`/apis`, `/apis/<group>`, `/apis/<group>/<version>`) and
 * OpenAPI (`/openapi/v2`, `/openapi/v3`, `/openapi/v3/apis/<group>/<version>`).
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { SNAPSHOT_API_VERSION, SNAPSHOT_GROUP } from "../api/group.ts";
import { aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList, etagMatches, tagged } from "./discovery.ts";
import type { Tagged } from "./discovery.ts";
import { pathNotFound } from "./errors.ts";
import { DISCOVERY_CONTENT_TYPE, negotiateOrThrow } from "./negotiate.ts";
import type { DiscoveryVersion } from "./negotiate.ts";
import type { Documents as OpenAPIDocuments } from "./openapi.ts";
import { sendJSON } from "./respond.ts";
import { requestUrl } from "./request-info.ts";

/** The OpenAPI documents are built from the zod schemas: loaded on the first OpenAPI request, not at start. */
let openapiDocs: Promise<OpenAPIDocuments> | undefined;
const openapiDocuments = (): Promise<OpenAPIDocuments> => (openapiDocs ??= import("./openapi.ts").then((m) => m.openapiDocuments()));
const GV_PATH = `apis/${SNAPSHOT_API_VERSION}`;

const discoveryDocs = new Map<DiscoveryVersion, Tagged>();

function discoveryDoc(v: DiscoveryVersion): Tagged {
  let doc = discoveryDocs.get(v);
  if (doc === undefined) {
    doc = tagged(aggregatedDiscovery(v));
    discoveryDocs.set(v, doc);
  }
  return doc;
}

/** 304 when If-None-Match names the ETag; else 200 with the body. */
function sendTagged(req: IncomingMessage, res: ServerResponse, doc: Tagged, contentType = "application/json"): void {
  res.setHeader("ETag", doc.etag);
  if (etagMatches(req.headers["if-none-match"], doc.etag)) {
    res.writeHead(304).end();
    return;
  }
  sendJSON(res, 200, doc.body, contentType);
}

function serveApis(req: IncomingMessage, res: ServerResponse): void {
  const outcome = negotiateOrThrow(req.headers.accept, { discovery: true });
  res.setHeader("Vary", "Accept");
  if (outcome.kind === "discovery") return sendTagged(req, res, discoveryDoc(outcome.version), DISCOVERY_CONTENT_TYPE(outcome.version));
  sendJSON(res, 200, apiGroupList());
}

async function serveOpenAPIV3Doc(req: IncomingMessage, res: ServerResponse): Promise<void> {
  negotiateOrThrow(req.headers.accept, {});
  const docs = await openapiDocuments();
  const hash = requestUrl(req).searchParams.get("hash");
  res.setHeader("Cache-Control", hash === docs.v3Hash ? "public, immutable" : "no-cache, private");
  sendTagged(req, res, { body: docs.v3, etag: `"${docs.v3Hash}"` });
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

const json =
  (make: () => unknown): Handler =>
  async (req, res) => {
    negotiateOrThrow(req.headers.accept, {});
    sendJSON(res, 200, await make());
  };

const ROUTES: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ["/apis", serveApis],
  [`/apis/${SNAPSHOT_GROUP}`, json(apiGroup)],
  [`/apis/${SNAPSHOT_API_VERSION}`, json(apiResourceList)],
  [
    "/openapi/v2",
    async (req, res) => {
      negotiateOrThrow(req.headers.accept, {});
      const docs = await openapiDocuments();
      sendTagged(req, res, { body: docs.v2, etag: `"${docs.v2Hash}"` });
    },
  ],
  ["/openapi/v3", json(async () => JSON.parse((await openapiDocuments()).v3Root) as unknown)],
  [`/openapi/v3/${GV_PATH}`, serveOpenAPIV3Doc],
]);

/** Serves a non-resource GET, or throws 404. */
export function serveNonResource(req: IncomingMessage, res: ServerResponse, path: string): void | Promise<void> {
  const handler = ROUTES.get(path.length > 1 ? path.replace(/\/+$/, "") : path);
  if (handler === undefined || (req.method !== "GET" && req.method !== "HEAD")) throw pathNotFound();
  return handler(req, res);
}
