/**
 * Starts the app on a loopback listener with in-memory repositories and real-shaped
 * TokenReview/SubjectAccessReview answers, for the apiserver's HTTP tests.
 * @module
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createApp } from "./app.ts";
import { staticAuthConfig } from "./auth-config.ts";
import { createAuthenticator } from "./authn.ts";
import { createAuthorizer } from "./authz.ts";
import { createSnapshotIndex } from "./index.ts";
import type { SnapshotIndex } from "./index.ts";
import { manualClock, manualTimers, MemoryRuns, MemorySources, RuleAccessReviewer, silentLog, TableTokenReviewer } from "./test-fixtures.ts";
import type { ManualClock, ManualTimers } from "./test-fixtures.ts";

export interface Harness {
  readonly url: string;
  readonly index: SnapshotIndex;
  readonly sources: MemorySources;
  readonly runs: MemoryRuns;
  readonly tokens: TableTokenReviewer;
  readonly access: RuleAccessReviewer;
  readonly clock: ManualClock;
  readonly timers: ManualTimers;
  /** fetch with `Authorization: Bearer <token>` (default: alice). */
  get(path: string, init?: RequestInit & { token?: string }): Promise<Response>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const clock = manualClock();
  const timers = manualTimers();
  const sources = new MemorySources();
  const runs = new MemoryRuns();
  const tokens = new TableTokenReviewer();
  tokens.users.set("alice-token", { username: "alice", uid: "u-alice", groups: ["team-a"] });
  tokens.users.set("admin-token", { username: "admin", groups: ["system:masters"] });
  const access = new RuleAccessReviewer();
  const index = createSnapshotIndex({ sources, runs, clock, log: silentLog });
  const app = createApp({
    index,
    authenticator: createAuthenticator({ config: staticAuthConfig({ clientCA: [] }), tokens, clock }),
    authorizer: createAuthorizer({ reviewer: access, clock }),
    log: silentLog,
    clock,
    after: timers.after,
  });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    index,
    sources,
    runs,
    tokens,
    access,
    clock,
    timers,
    get(path, init = {}) {
      const { token = "alice-token", headers, ...rest } = init;
      return fetch(url + path, { ...rest, headers: { ...(token === "" ? {} : { Authorization: `Bearer ${token}` }), ...(headers as Record<string, string> | undefined) } });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reads newline-terminated JSON frames from a streaming response until `n` arrived (or the end). */
export async function readFrames(res: Response, n: number, state: { buf: string; reader?: ReadableStreamDefaultReader<Uint8Array> } = { buf: "" }): Promise<unknown[]> {
  state.reader ??= (res.body as ReadableStream<Uint8Array>).getReader();
  const frames: unknown[] = [];
  const decoder = new TextDecoder();
  for (;;) {
    let nl = state.buf.indexOf("\n");
    while (nl !== -1 && frames.length < n) {
      frames.push(JSON.parse(state.buf.slice(0, nl)));
      state.buf = state.buf.slice(nl + 1);
      nl = state.buf.indexOf("\n");
    }
    if (frames.length >= n) return frames;
    const chunk = await state.reader.read();
    if (chunk.done) return frames;
    state.buf += decoder.decode(chunk.value, { stream: true });
  }
}
