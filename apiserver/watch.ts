/**
 * Watch: a chunked stream of newline-terminated `{"type","object"}` frames. RV unset or "0"
 * starts with synthetic ADDED events; RV=N replays buffered events after N (410 in an ERROR
 * frame when N is too old). Objects follow the negotiated form (full, Table, metadata only).
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { SNAPSHOT_API_VERSION } from "../api/group.ts";
import { SNAPSHOT_KIND } from "../api/snapshot-names.ts";
import type { Snapshot } from "../api/snapshot.ts";
import type { Logger } from "../kube/log.ts";
import { badRequest, tooOldResourceVersion } from "./errors.ts";
import type { Status } from "./errors.ts";
import type { IndexEvent } from "./events.ts";
import type { SnapshotIndex } from "./index.ts";
import { matches, parseBool, parseFilter, parseIncludeObject, parseResourceVersion, parseTimeoutSeconds } from "./list-options.ts";
import type { Filter } from "./list-options.ts";
import { negotiateOrThrow } from "./negotiate.ts";
import type { Outcome } from "./negotiate.ts";
import { formOf, itemJson } from "./render.ts";
import { setWarnings } from "./respond.ts";
import type { IncludeObject } from "./table.ts";
import type { After, Clock } from "./types.ts";
import { requestUrl } from "./request-info.ts";

export interface WatchContext {
  readonly index: SnapshotIndex;
  readonly clock: Clock;
  readonly after: After;
  /** Used when the client gives no timeoutSeconds. */
  readonly defaultTimeoutSeconds: number;
  readonly log: Logger;
  /** A watcher this far behind (bytes not yet sent) is closed; it will re-watch. */
  readonly maxBufferedBytes?: number;
}

type FrameType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

interface Scope {
  readonly namespace: string | undefined;
  readonly filter: Filter;
}

function inScope(scope: Scope, s: Snapshot): boolean {
  return (scope.namespace === undefined || s.metadata.namespace === scope.namespace) && matches(scope.filter, s);
}

/** An index event as this watcher sees it: selector transitions become ADDED/DELETED. */
export function translate(e: IndexEvent, scope: Scope): { type: FrameType; object: Snapshot } | undefined {
  const cur = inScope(scope, e.object);
  if (e.type !== "MODIFIED") return cur ? { type: e.type, object: e.object } : undefined;
  const prev = e.prev !== undefined && inScope(scope, e.prev);
  if (cur) return { type: prev ? "MODIFIED" : "ADDED", object: e.object };
  if (!prev || e.prev === undefined) return undefined;
  return { type: "DELETED", object: { ...e.prev, metadata: { ...e.prev.metadata, resourceVersion: String(e.rv) } } };
}

interface Renderer {
  /** The object of a frame, encoded JSON. */
  render(s: Snapshot): Buffer;
  bookmark(rv: number, initialEnd: boolean): unknown;
}

function renderer(outcome: Outcome, include: IncludeObject, clock: Clock): Renderer {
  let firstTable = true;
  const mark = (rv: number, end: boolean) => ({ resourceVersion: String(rv), ...(end ? { annotations: { "k8s.io/initial-events-end": "true" } } : {}) });
  const form = formOf(outcome, include);
  if (form.kind === "table") {
    return {
      render(s) {
        const columns = firstTable;
        firstTable = false;
        return itemJson(s, form, { now: clock.now(), columns, listMeta: { resourceVersion: s.metadata.resourceVersion ?? "" } });
      },
      bookmark: () => undefined,
    };
  }
  const now = 0;
  if (form.kind === "partial") {
    const apiVersion = `meta.k8s.io/${form.version}`;
    return { render: (s) => itemJson(s, form, { now, columns: false }), bookmark: (rv, end) => ({ kind: "PartialObjectMetadata", apiVersion, metadata: mark(rv, end) }) };
  }
  return { render: (s) => itemJson(s, form, { now, columns: false }), bookmark: (rv, end) => ({ kind: SNAPSHOT_KIND, apiVersion: SNAPSHOT_API_VERSION, metadata: mark(rv, end) }) };
}

const FRAME_OPEN: Readonly<Record<FrameType, Buffer>> = {
  ADDED: Buffer.from('{"type":"ADDED","object":'),
  MODIFIED: Buffer.from('{"type":"MODIFIED","object":'),
  DELETED: Buffer.from('{"type":"DELETED","object":'),
  BOOKMARK: Buffer.from('{"type":"BOOKMARK","object":'),
  ERROR: Buffer.from('{"type":"ERROR","object":'),
};
const FRAME_CLOSE = Buffer.from("}\n");

/** `{"type":…,"object":…}` and a newline, as JSON.stringify of the frame would write it. */
function frame(type: FrameType, object: unknown): Buffer {
  const body = Buffer.isBuffer(object) ? object : Buffer.from(JSON.stringify(object), "utf8");
  return Buffer.concat([FRAME_OPEN[type], body, FRAME_CLOSE]);
}

interface Plan {
  readonly initial: readonly Snapshot[];
  readonly replay: readonly IndexEvent[];
  readonly error?: Status;
  readonly initialEndBookmark: boolean;
}

function plan(ctx: WatchContext, q: URLSearchParams, scope: Scope, bookmarks: boolean): Plan {
  const rv = parseResourceVersion(q);
  const sendInitial = parseBool(q, "sendInitialEvents");
  if (sendInitial !== undefined && q.get("resourceVersionMatch") !== "NotOlderThan") {
    throw badRequest('resourceVersionMatch: Forbidden: sendInitialEvents requires resourceVersionMatch "NotOlderThan"');
  }
  const synthetic = sendInitial ?? rv === undefined;
  if (synthetic) {
    const initial = ctx.index.list(scope.namespace).filter((row) => matches(scope.filter, row.object)).map((row) => row.object);
    return { initial, replay: [], initialEndBookmark: sendInitial === true && bookmarks };
  }
  if (rv === undefined) return { initial: [], replay: [], initialEndBookmark: false };
  const replay = ctx.index.eventsSince(rv);
  if (replay === "expired") return { initial: [], replay: [], error: tooOldResourceVersion(rv, ctx.index.oldestResourceVersion()).status, initialEndBookmark: false };
  return { initial: [], replay, initialEndBookmark: false };
}

/** `target.name` set: the deprecated watch of one object by path. */
export function handleWatch(ctx: WatchContext, req: IncomingMessage, res: ServerResponse, target: { namespace?: string; name?: string }): void {
  const q = requestUrl(req).searchParams;
  const outcome = negotiateOrThrow(req.headers.accept, { table: true, partial: "item" });
  const namespace = target.namespace;
  const filter = parseFilter(q);
  const byName = target.name === undefined ? [] : [{ field: "metadata.name" as const, equal: true, value: target.name }];
  const scope: Scope = { namespace, filter: { labels: filter.labels, fields: [...filter.fields, ...byName] } };
  const include = parseIncludeObject(q);
  const timeoutSeconds = parseTimeoutSeconds(q) || ctx.defaultTimeoutSeconds;
  const bookmarks = parseBool(q, "allowWatchBookmarks") === true && outcome.kind !== "table";
  const p = plan(ctx, q, scope, bookmarks);
  const r = renderer(outcome, include, ctx.clock);
  const maxBuffered = ctx.maxBufferedBytes ?? 16 * 1024 * 1024;

  setWarnings(res, ctx.index.problems(namespace));
  res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private" });
  res.flushHeaders();
  let open = true;
  const cleanups: (() => void)[] = [];
  const finish = (): void => {
    if (!open) return;
    open = false;
    for (const c of cleanups) c();
    res.end();
  };
  const write = (type: FrameType, object: unknown): void => {
    if (!open) return;
    res.write(frame(type, object));
    if (res.writableLength > maxBuffered) {
      ctx.log.warn({ namespace, buffered: res.writableLength }, "watch closed: client too slow");
      finish();
    }
  };

  if (p.error !== undefined) {
    write("ERROR", p.error);
    return finish();
  }
  for (const s of p.initial) write("ADDED", r.render(s));
  if (p.initialEndBookmark) write("BOOKMARK", r.bookmark(ctx.index.resourceVersion(), true));
  const deliver = (e: IndexEvent): void => {
    const t = translate(e, scope);
    if (t !== undefined) write(t.type, r.render(t.object));
  };
  for (const e of p.replay) deliver(e);
  cleanups.push(ctx.index.subscribe(deliver));
  cleanups.push(ctx.after(timeoutSeconds * 1000, finish));
  res.on("close", finish);
}
