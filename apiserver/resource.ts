/**
 * GET of the snapshots resource: list (one namespace or all) and get, in full JSON, Table or
 * PartialObjectMetadata form.
 * @module
 */
import type { Request, Response } from "express";
import { SNAPSHOT_API_VERSION } from "../api/group.ts";
import { SNAPSHOT_LIST_KIND } from "../api/snapshot.ts";
import type { Snapshot } from "../api/snapshot.ts";
import { badRequest, notFound } from "./errors.ts";
import type { SnapshotIndex, StoredSnapshot } from "./index.ts";
import { decodeContinue, encodeContinue, matches, parseFilter, parseIncludeObject, parseLimit, parseResourceVersion } from "./list-options.ts";
import type { Filter } from "./list-options.ts";
import { negotiateOrThrow } from "./negotiate.ts";
import { sendJSON, setWarnings } from "./respond.ts";
import { partialObject, toTable } from "./table.ts";
import type { Clock } from "./types.ts";

export interface ResourceContext {
  readonly index: SnapshotIndex;
  readonly clock: Clock;
}

/** Index of the first item whose sort key is greater than `key`. */
function firstAfter(items: readonly StoredSnapshot[], key: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((items[mid] as StoredSnapshot).key <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Page {
  readonly items: Snapshot[];
  readonly continueKey?: string;
  readonly remaining: number;
}

function paginate(all: readonly StoredSnapshot[], filter: Filter, start: number, limit: number | undefined): Page {
  const items: Snapshot[] = [];
  let last: StoredSnapshot | undefined;
  let i = start;
  for (; i < all.length && (limit === undefined || items.length < limit); i++) {
    const row = all[i] as StoredSnapshot;
    if (!matches(filter, row.object)) continue;
    items.push(row.object);
    last = row;
  }
  let remaining = 0;
  for (; i < all.length; i++) if (matches(filter, (all[i] as StoredSnapshot).object)) remaining++;
  return { items, remaining, ...(remaining > 0 && last !== undefined ? { continueKey: last.key } : {}) };
}

export function handleList(ctx: ResourceContext, req: Request, res: Response, namespace: string | undefined): void {
  const q = new URL(req.originalUrl, "http://local").searchParams;
  const outcome = negotiateOrThrow(req.headers.accept, { table: true, partial: "list" });
  const filter = parseFilter(q);
  const include = parseIncludeObject(q);
  const limit = parseLimit(q);
  const token = q.get("continue") ?? "";
  const rvParam = parseResourceVersion(q);
  if (token !== "" && rvParam !== undefined) throw badRequest("resourceVersion: Forbidden: specifying resource version is not allowed when using continue");
  const all = ctx.index.list(namespace);
  const page = paginate(all, filter, token === "" ? 0 : firstAfter(all, decodeContinue(token)), limit);
  const rv = ctx.index.resourceVersion();
  const listMeta = {
    resourceVersion: String(rv),
    ...(page.continueKey === undefined ? {} : { continue: encodeContinue(rv, page.continueKey), remainingItemCount: page.remaining }),
  };
  setWarnings(res, ctx.index.problems(namespace));
  if (outcome.kind === "table") {
    sendJSON(res, 200, toTable(page.items, { version: outcome.version, include, now: ctx.clock.now(), columns: true, listMeta }));
  } else if (outcome.kind === "partial") {
    const items = page.items.map((s) => partialObject(s, outcome.version));
    sendJSON(res, 200, { kind: "PartialObjectMetadataList", apiVersion: `meta.k8s.io/${outcome.version}`, metadata: listMeta, items });
  } else {
    sendJSON(res, 200, { kind: SNAPSHOT_LIST_KIND, apiVersion: SNAPSHOT_API_VERSION, metadata: listMeta, items: page.items });
  }
}

export function handleGet(ctx: ResourceContext, req: Request, res: Response, id: { namespace: string; name: string }): void {
  const q = new URL(req.originalUrl, "http://local").searchParams;
  const outcome = negotiateOrThrow(req.headers.accept, { table: true, partial: "item" });
  const include = parseIncludeObject(q);
  parseResourceVersion(q);
  const stored = ctx.index.get(id.namespace, id.name);
  setWarnings(res, ctx.index.problems(id.namespace));
  if (stored === undefined) throw notFound(id.name);
  const s = stored.object;
  if (outcome.kind === "table") {
    const listMeta = { resourceVersion: s.metadata.resourceVersion ?? "" };
    sendJSON(res, 200, toTable([s], { version: outcome.version, include, now: ctx.clock.now(), columns: true, listMeta }));
  } else if (outcome.kind === "partial") {
    sendJSON(res, 200, partialObject(s, outcome.version));
  } else {
    sendJSON(res, 200, s);
  }
}
