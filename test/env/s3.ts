/**
 * A real S3 server for tests: versitygw's POSIX backend on 127.0.0.1 with random root
 * credentials (it checks SigV4, including restic's streaming uploads).
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import type { Logger } from "../../kube/log.ts";
import { defaultBinDir } from "./config.ts";
import { freePort } from "./ports.ts";
import { startProcess } from "./supervisor.ts";
import type { SupervisedProcess } from "./supervisor.ts";
import { waitFor } from "./wait.ts";

export interface S3ServerOptions {
  /** Working directory: buckets live in `dir/data`, metadata in `dir/meta`, the log in `dir/versitygw.log`. */
  readonly dir: string;
  readonly log?: Logger;
  /** Directory holding the `versitygw` binary (default: `$PW_BIN`, see config.ts). */
  readonly binDir?: string;
  readonly timeoutMs?: number;
}

export interface S3Server {
  /** `http://127.0.0.1:<port>` (path-style addressing). */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  readonly logPath: string;
  /** Process (group) id of versitygw. */
  readonly pid: number;
  /** Creates a bucket (idempotent for a bucket this server already owns). */
  createBucket(name: string): Promise<void>;
  /** `s3:<endpoint>/<bucket>[/<prefix>]`, the form restic's `-r` expects. */
  resticRepository(bucket: string, prefix?: string): string;
  /** `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_DEFAULT_REGION` for a client process. */
  clientEnv(): Record<string, string>;
  logTails(lines?: number): string;
  stop(): Promise<void>;
}

function randomKey(length: number, alphabet: string): string {
  const bytes = randomBytes(length);
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join("");
}

const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const MIXED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

async function probe(endpoint: string): Promise<boolean> {
  const res = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(1000) });
  await res.body?.cancel();
  return true;
}

interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

/** Starts versitygw on a free port; retries with a new port when the picked one was taken meanwhile. */
async function launch(opts: S3ServerOptions, creds: Credentials): Promise<{ proc: SupervisedProcess; endpoint: string }> {
  const data = join(opts.dir, "data");
  const meta = join(opts.dir, "meta");
  mkdirSync(data, { recursive: true });
  mkdirSync(meta, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const proc = await startProcess({
      name: "versitygw",
      command: join(opts.binDir ?? defaultBinDir(), "versitygw"),
      args: ["--port", `127.0.0.1:${port}`, "--region", creds.region, "--quiet", "posix", "--sidecar", meta, data],
      // Credentials travel in the environment, not argv, so `ps` does not show them.
      env: { ROOT_ACCESS_KEY_ID: creds.accessKeyId, ROOT_SECRET_ACCESS_KEY: creds.secretAccessKey },
      logPath: join(opts.dir, "versitygw.log"),
    });
    const abort = proc.exited.then((e) => `versitygw exited (code ${e.code}, signal ${e.signal})`);
    try {
      await waitFor(() => probe(endpoint), { what: `versitygw on ${endpoint}`, timeoutMs: opts.timeoutMs ?? 20_000, abort });
      return { proc, endpoint };
    } catch (err) {
      await proc.stop();
      const tail = proc.tail();
      if (attempt < 3 && /address already in use/i.test(tail)) continue;
      throw new Error(`${(err as Error).message}\n== versitygw (${proc.logPath}) ==\n${tail}`, { cause: err });
    }
  }
}

/** Starts versitygw and waits until it answers HTTP. */
export async function startS3Server(opts: S3ServerOptions): Promise<S3Server> {
  const region = "us-east-1";
  const accessKeyId = `PW${randomKey(18, UPPER)}`;
  const secretAccessKey = randomKey(40, MIXED);
  const { proc, endpoint } = await launch(opts, { accessKeyId, secretAccessKey, region });
  const logTails = (lines?: number): string => `== versitygw (${proc.logPath}) ==\n${proc.tail(lines)}`;
  opts.log?.info({ endpoint, dir: opts.dir }, "s3 server ready");
  const client = new S3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    region,
    logPath: proc.logPath,
    pid: proc.pid,
    async createBucket(name) {
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }));
      } catch (err) {
        if ((err as { name?: string }).name !== "BucketAlreadyOwnedByYou") throw err;
      }
    },
    resticRepository: (bucket, prefix) => `s3:${endpoint}/${bucket}${prefix ? `/${prefix}` : ""}`,
    clientEnv: () => ({ AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_DEFAULT_REGION: region }),
    logTails,
    async stop() {
      client.destroy();
      await proc.stop();
    },
  };
}
