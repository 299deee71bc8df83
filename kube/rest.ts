/**
 * A small Kubernetes REST client over node:https: JSON requests and watch streams, with the
 * credentials of a {@link KubeTarget}. It replaces @kubernetes/client-node in our servers because
 * that library takes about 0.2 s to load (every generated API model), which a cold start of the
 * Snapshot API cannot afford; our parts need only a handful of calls (docs/kube-client.md).
 * @module
 */
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import type { IncomingMessage } from "node:http";
import type { KubeTarget } from "./kubeconfig.ts";

/** A non-2xx answer; `body` is the parsed `Status` when the server sent one. */
export class KubeApiError extends Error {
  override readonly name = "KubeApiError";
  readonly code: number;
  readonly body: unknown;

  constructor(method: string, path: string, code: number, body: unknown) {
    const message = (body as { message?: unknown } | undefined)?.message;
    super(`${method} ${path.split("?")[0]}: ${code}${typeof message === "string" ? ` ${message}` : ""}`);
    this.code = code;
    this.body = body;
  }
}

/** A request's answer, or undefined when the object does not exist (404); any other failure rejects. */
export async function unlessNotFound<T>(answer: Promise<T>): Promise<T | undefined> {
  try {
    return await answer;
  } catch (err) {
    if (err instanceof KubeApiError && err.code === 404) return undefined;
    throw err;
  }
}

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface RequestOptions {
  readonly query?: Query;
  readonly body?: unknown;
  /** Default application/json; server-side apply: application/apply-patch+yaml. */
  readonly contentType?: string;
  readonly signal?: AbortSignal;
}

/** One watch frame. */
export interface WatchEvent<T> {
  readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  readonly object: T;
}

export interface KubeClient {
  /** Where and as what, for messages. */
  readonly source: string;
  /** A JSON request; resolves to the parsed body, rejects with KubeApiError on non-2xx. */
  request<T>(method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE", path: string, opts?: RequestOptions): Promise<T>;
  /** GET with `watch=1`: each frame goes to `onEvent`; resolves when the stream ends (or is aborted), rejects on a non-2xx answer. */
  watch<T>(path: string, query: Query, onEvent: (e: WatchEvent<T>) => void, signal?: AbortSignal): Promise<void>;
  /** Closes idle connections. */
  close(): void;
}

const TOKEN_MAX_AGE_MS = 60_000;

function queryString(q: Query | undefined): string {
  const entries = Object.entries(q ?? {}).filter((e): e is [string, string | number | boolean] => e[1] !== undefined);
  return entries.length === 0 ? "" : `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}`;
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    res.on("error", reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text === "" ? undefined : { message: text.slice(0, 500) };
  }
}

export function createKubeClient(target: KubeTarget, opts: { readonly now?: () => number } = {}): KubeClient {
  const now = opts.now ?? Date.now;
  const agent = new Agent({
    keepAlive: true,
    ...(target.caPem === undefined ? {} : { ca: target.caPem }),
    ...(target.certPem === undefined ? {} : { cert: target.certPem }),
    ...(target.keyPem === undefined ? {} : { key: target.keyPem }),
    rejectUnauthorized: target.insecureSkipTLSVerify !== true,
  });
  let token = { value: target.token, readAt: 0 };
  const bearer = (): string | undefined => {
    if (target.tokenFile !== undefined && now() - token.readAt > TOKEN_MAX_AGE_MS) token = { value: readFileSync(target.tokenFile, "utf8").trim(), readAt: now() };
    return token.value;
  };

  const send = (method: string, path: string, o: RequestOptions, accept: string): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const auth = bearer();
      const payload = o.body === undefined ? undefined : Buffer.from(typeof o.body === "string" ? o.body : JSON.stringify(o.body), "utf8");
      const req = request(`${target.server}${path}${queryString(o.query)}`, {
        method,
        agent,
        headers: {
          accept,
          ...(auth === undefined ? {} : { authorization: `Bearer ${auth}` }),
          ...(payload === undefined ? {} : { "content-type": o.contentType ?? "application/json", "content-length": payload.length }),
        },
        ...(o.signal === undefined ? {} : { signal: o.signal }),
      });
      req.on("response", resolve);
      req.on("error", reject);
      req.end(payload);
    });

  const failIfNot2xx = async (method: string, path: string, res: IncomingMessage): Promise<void> => {
    const code = res.statusCode ?? 0;
    if (code >= 200 && code < 300) return;
    throw new KubeApiError(method, path, code, parseJson(await readBody(res)));
  };

  return {
    source: target.source,
    async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
      const res = await send(method, path, o, "application/json");
      await failIfNot2xx(method, path, res);
      return parseJson(await readBody(res)) as T;
    },
    async watch<T>(path: string, query: Query, onEvent: (e: WatchEvent<T>) => void, signal?: AbortSignal): Promise<void> {
      let res: IncomingMessage;
      try {
        res = await send("GET", path, { query: { ...query, watch: 1 }, ...(signal === undefined ? {} : { signal }) }, "application/json");
      } catch (err) {
        if (signal?.aborted) return;
        throw err;
      }
      await failIfNot2xx("GET", path, res);
      await new Promise<void>((resolve) => {
        let buf = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buf += chunk;
          for (let nl = buf.indexOf("\n"); nl !== -1; nl = buf.indexOf("\n")) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (line.trim() === "") continue;
            try {
              onEvent(JSON.parse(line) as WatchEvent<T>);
            } catch {
              // A frame that does not parse (or a handler that throws) ends this watch; the caller watches again.
              res.destroy();
              resolve();
              return;
            }
          }
        });
        res.on("end", resolve);
        res.on("error", () => resolve());
        res.on("close", resolve);
      });
    },
    close: () => agent.destroy(),
  };
}
