/**
 * A TLS front for KWOK's kubelet server that restores `exec` exit codes.
 *
 * KWOK v0.8.0 runs an exec'd command locally but wraps the process's exit error before handing
 * it to the streaming library, which therefore reports any non-zero exit as
 * `InternalError: … cmd wait: <cmd>: exit status N` instead of the kubelet's
 * `NonZeroExitCode` status with an `ExitCode` cause. kubectl then exits 1 and client-node's
 * `Exec` sees an InternalError. This proxy sits where kube-apiserver expects the kubelet
 * (the Node's daemonEndpoints port), terminates TLS, passes every byte through to KWOK's plain
 * HTTP listener, and — only after a `101 Switching Protocols` to SPDY — rewrites the status
 * written on the exec's error stream (the first stream the client opens, id 1) into the
 * kubelet's shape. SPDY data frames are uncompressed, so no header state is touched.
 * @module
 */
import { connect } from "node:net";
import type { Socket } from "node:net";
import { createServer } from "node:tls";
import type { TLSSocket } from "node:tls";

const ERROR_STREAM_ID = 1;
const EXIT = /^(?:Internal error occurred: )?error executing command in container: cmd wait: [\s\S]*?: exit status (\d+)(?:\n|$)/;

/** The kubelet's status for a KWOK "exit status N" InternalError; `undefined` when `payload` is anything else. Pure. */
export function rewriteExitStatus(payload: string): string | undefined {
  let status: { status?: string; message?: string };
  try {
    status = JSON.parse(payload) as typeof status;
  } catch {
    return undefined;
  }
  const m = status.status === "Failure" ? EXIT.exec(status.message ?? "") : null;
  if (!m) return undefined;
  const code = m[1] ?? "1";
  return JSON.stringify({
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: exit status ${code}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: code }] },
  });
}

function dataFrame(streamId: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt8(flags, 4);
  head.writeUIntBE(payload.length, 5, 3);
  return Buffer.concat([head, payload]);
}

/** Rewrites SPDY frames of one server→client byte stream; feed it chunks, it returns what to forward. */
export class SpdyStatusRewriter {
  private pending = Buffer.alloc(0);

  push(chunk: Buffer): Buffer {
    this.pending = Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    while (this.pending.length >= 8) {
      const length = this.pending.readUIntBE(5, 3);
      if (this.pending.length < 8 + length) break;
      const frame = this.pending.subarray(0, 8 + length);
      this.pending = this.pending.subarray(8 + length);
      out.push(this.fix(frame));
    }
    return Buffer.concat(out);
  }

  private fix(frame: Buffer): Buffer {
    const isControl = (frame.readUInt8(0) & 0x80) !== 0;
    if (isControl || (frame.readUInt32BE(0) & 0x7fffffff) !== ERROR_STREAM_ID) return frame;
    const rewritten = rewriteExitStatus(frame.subarray(8).toString("utf8"));
    return rewritten === undefined ? frame : dataFrame(ERROR_STREAM_ID, frame.readUInt8(4), Buffer.from(rewritten, "utf8"));
  }
}

/** Server→client: HTTP response head verbatim; after a 101 to SPDY, frames through the rewriter; otherwise untouched. */
export function responseTransformer(): (chunk: Buffer) => Buffer {
  let head = Buffer.alloc(0);
  let mode: "head" | "spdy" | "raw" = "head";
  const rewriter = new SpdyStatusRewriter();
  return (chunk) => {
    if (mode === "raw") return chunk;
    if (mode === "spdy") return rewriter.push(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) return Buffer.alloc(0);
    const headText = head.subarray(0, end).toString("latin1");
    mode = /^HTTP\/1\.1 101/.test(headText) && /^upgrade:\s*spdy\//im.test(headText) ? "spdy" : "raw";
    const rest = head.subarray(end + 4);
    const headPart = head.subarray(0, end + 4);
    head = Buffer.alloc(0);
    return Buffer.concat([headPart, mode === "spdy" ? rewriter.push(rest) : rest]);
  };
}

export interface ExecProxyOptions {
  readonly port: number;
  readonly targetPort: number;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface ExecProxy {
  readonly port: number;
  stop(): Promise<void>;
}

function pipeConnection(client: TLSSocket | Socket, targetPort: number, sockets: Set<Socket>): void {
  const upstream = connect({ host: "127.0.0.1", port: targetPort });
  sockets.add(client).add(upstream);
  const transform = responseTransformer();
  const closeBoth = () => {
    client.destroy();
    upstream.destroy();
    sockets.delete(client);
    sockets.delete(upstream);
  };
  client.on("data", (c: Buffer) => upstream.write(c));
  upstream.on("data", (c: Buffer) => {
    const out = transform(c);
    if (out.length > 0) client.write(out);
  });
  client.on("end", () => upstream.end());
  upstream.on("end", () => client.end());
  for (const s of [client, upstream]) {
    s.on("error", closeBoth);
    s.on("close", closeBoth);
  }
}

/** Starts the TLS front on 127.0.0.1:`port`, forwarding to KWOK's plain listener on `targetPort`. */
export async function startExecProxy(o: ExecProxyOptions): Promise<ExecProxy> {
  const sockets = new Set<Socket>();
  const server = createServer({ cert: o.certPem, key: o.keyPem, ALPNProtocols: ["http/1.1"] }, (client) => pipeConnection(client, o.targetPort, sockets));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, "127.0.0.1", () => resolve());
  });
  return {
    port: o.port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
