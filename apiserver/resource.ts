/**
 * GET of the snapshots resource: list (one namespace or all) and get, in full JSON, Table or
 * PartialObjectMetadata form.
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Snapshot } from "../api/snapshot.ts";
import { badRequest, notFound } from "./errors.ts";
import type { SnapshotIndex, StoredSnapshot } from "./index.ts";
import { decodeContinue, encodeContinue, matches, parseFilter, parseIncludeObject, parseLimit, parseResourceVersion } from "./list-options.ts";
import type { Filter } from "./list-options.ts";
import { negotiateOrThrow } from "./negotiate.ts";
import { viewListJson } from "./list-cache.ts";
import type { ViewRange } from "./list-cache.ts";
import { formOf, itemJson, listJson } from "./render.ts";
import { sendJSON, setWarnings } from "./respond.ts";
import type { Clock } from "./types.ts";
import { requestUrl } from "./request-info.ts";

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

/** The page's items (with a selector), or rows [start, end) of the view (without one). */
type Page = { readonly continueKey?: string; readonly remaining: number } & ({ readonly items: Snapshot[] } | { readonly range: ViewRange });

function isEmpty(filter: Filter): boolean {
  return filter.labels.length === 0 && filter.fields.length === 0;
}

/** Without a selector a page is a slice of the sorted view: O(page). */
function slice(all: readonly StoredSnapshot[], start: number, limit: number | undefined): Page {
  const end = limit === undefined ? all.length : Math.min(all.length, start + limit);
  const remaining = all.length - end;
  const last = end > start ? all[end - 1] : undefined;
  return { range: { rows: all, start, end }, remaining, ...(remaining > 0 && last !== undefined ? { continueKey: last.key } : {}) };
}

function paginate(all: readonly StoredSnapshot[], filter: Filter, start: number, limit: number | undefined): Page {
  if (isEmpty(filter)) return slice(all, start, limit);
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

export function handleList(ctx: ResourceContext, req: IncomingMessage, res: ServerResponse, namespace: string | undefined): void {
  const q = requestUrl(req).searchParams;
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
  const form = formOf(outcome, include);
  const body = { now: ctx.clock.now(), listMeta };
  sendJSON(res, 200, "range" in page ? viewListJson(page.range, form, body) : listJson(page.items, form, body));
}

export function handleGet(ctx: ResourceContext, req: IncomingMessage, res: ServerResponse, id: { namespace: string; name: string }): void {
  const q = requestUrl(req).searchParams;
  const outcome = negotiateOrThrow(req.headers.accept, { table: true, partial: "item" });
  const include = parseIncludeObject(q);
  parseResourceVersion(q);
  const stored = ctx.index.get(id.namespace, id.name);
  setWarnings(res, ctx.index.problems(id.namespace));
  if (stored === undefined) throw notFound(id.name);
  const s = stored.object;
  const listMeta = { resourceVersion: s.metadata.resourceVersion ?? "" };
  sendJSON(res, 200, itemJson(s, formOf(outcome, include), { now: ctx.clock.now(), columns: true, listMeta }));
}
