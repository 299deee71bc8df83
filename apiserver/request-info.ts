/**
 * What a request is, in Kubernetes' terms: a resource request (verb, namespace, resource, name)
 * under our group-version, or a non-resource request (path, verb). Shared by authorization
 * and routing.
 * @module
 */
import type { IncomingMessage } from "node:http";
import { SNAPSHOT_GROUP, VERSION } from "../api/group.ts";

/** The request's URL (its path and query as sent; the host is a placeholder). */
export function requestUrl(req: IncomingMessage): URL {
  return new URL(req.url ?? "/", "http://local");
}

export type RequestInfo =
  | {
      readonly kind: "resource";
      readonly verb: string;
      readonly group: string;
      readonly version: string;
      readonly resource: string;
      readonly namespace?: string;
      readonly name?: string;
      readonly subresource?: string;
    }
  | { readonly kind: "nonresource"; readonly verb: string; readonly path: string };

const WRITE_VERBS: Readonly<Record<string, string>> = { POST: "create", PUT: "update", PATCH: "patch" };

function resourceVerb(method: string, hasName: boolean, watch: boolean): string {
  if (method === "GET" || method === "HEAD") return watch ? "watch" : hasName ? "get" : "list";
  if (method === "DELETE") return hasName ? "delete" : "deletecollection";
  return WRITE_VERBS[method] ?? method.toLowerCase();
}

export function isWatch(query: URLSearchParams): boolean {
  const w = query.get("watch");
  return w === "true" || w === "1";
}

function decodeSegments(path: string): string[] | undefined {
  try {
    return path.split("/").filter((s) => s !== "").map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

/** Classifies a request; paths outside `/apis/<our group>/<version>/…` are non-resource. */
export function requestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const m = method.toUpperCase();
  const segs = decodeSegments(path);
  const nonResource: RequestInfo = { kind: "nonresource", verb: m.toLowerCase(), path };
  if (segs === undefined || segs.length < 4 || segs[0] !== "apis" || segs[1] !== SNAPSHOT_GROUP || segs[2] !== VERSION) return nonResource;
  let rest = segs.slice(3);
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource = "", name, subresource] = rest;
  return {
    kind: "resource",
    verb: resourceVerb(m, name !== undefined, isWatch(query)),
    group: SNAPSHOT_GROUP,
    version: VERSION,
    resource,
    ...(namespace === undefined ? {} : { namespace }),
    ...(name === undefined ? {} : { name }),
    ...(subresource === undefined ? {} : { subresource: rest.slice(2).join("/") }),
  };
}
