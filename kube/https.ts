/**
 * HTTPS serving with certificate reload: the files are re-read when they change (a rotated
 * Secret) and swapped in with setSecureContext, without dropping connections.
 * @module
 */
import { readFileSync, watchFile, unwatchFile } from "node:fs";
import { createServer } from "node:https";
import type { Server, ServerOptions } from "node:https";
import type { RequestListener } from "node:http";
import type { Logger } from "./log.ts";

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** CA used to verify client certificates, if any. */
  readonly clientCaFile?: string;
}

function secureContext(files: TlsFiles): ServerOptions {
  return { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
}

export function createHttpsServer(files: TlsFiles, handler: RequestListener, log: Logger, extra: ServerOptions = {}): Server {
  const server = createServer({ ...extra, ...secureContext(files), minVersion: "TLSv1.2" }, handler);
  const reload = (): void => {
    try {
      server.setSecureContext(secureContext(files));
      log.info({ certFile: files.certFile }, "serving certificate reloaded");
    } catch (err) {
      log.error({ certFile: files.certFile, err: String(err) }, "serving certificate reload failed; keeping the previous one");
    }
  };
  for (const f of [files.certFile, files.keyFile]) watchFile(f, { interval: 5000 }, reload);
  server.on("close", () => [files.certFile, files.keyFile].forEach((f) => unwatchFile(f, reload)));
  return server;
}
