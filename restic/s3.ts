/**
 * A restic repository in an S3 bucket (path-style requests to the given endpoint only).
 * Object keys are `<prefix>/<path>`, as restic's `s3:<endpoint>/<bucket>/<prefix>` writes them.
 * @module
 */
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import type { Backend } from "./backend.ts";
import { checkRelativePath } from "./backend.ts";
import { BackendNotFoundError, ResticRepoError, classifySystemError, describeCause } from "./errors.ts";

export interface S3BackendOptions {
  /** With scheme, e.g. `https://s3.example.com` or `http://127.0.0.1:7070`. */
  readonly endpoint: string;
  readonly bucket: string;
  /** Folder inside the bucket; `""` or absent means the bucket root. */
  readonly prefix?: string;
  /** Default `us-east-1`. */
  readonly region?: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Attempts per request, including the first (default 3). */
  readonly maxAttempts?: number;
  /** Connect timeout in ms (default 5000). */
  readonly connectTimeoutMs?: number;
  /** Whole-request timeout in ms (default 30000). */
  readonly requestTimeoutMs?: number;
}

/** The S3 backend also frees its connections when the caller is done with it. */
export interface S3Backend extends Backend {
  close(): void;
}

/** Like Go's path.Clean for a key prefix: no leading, trailing or doubled slashes, no `.` segments. */
export function cleanPrefix(prefix: string | undefined): string {
  return (prefix ?? "")
    .split("/")
    .filter((s) => s !== "" && s !== ".")
    .join("/");
}

export function s3Backend(opts: S3BackendOptions): S3Backend {
  const prefix = cleanPrefix(opts.prefix);
  const name = `s3:${opts.endpoint.replace(/\/+$/, "")}/${opts.bucket}${prefix === "" ? "" : `/${prefix}`}`;
  const key = (path: string): string => (prefix === "" ? path : `${prefix}/${path}`);
  const client = new S3Client({
    endpoint: opts.endpoint,
    region: opts.region ?? "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey },
    maxAttempts: opts.maxAttempts ?? 3,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    requestHandler: {
      connectionTimeout: opts.connectTimeoutMs ?? 5000,
      requestTimeout: opts.requestTimeoutMs ?? 30_000,
      throwOnRequestTimeout: true,
    },
  });
  const fail = (err: unknown, path: string): never => {
    throw mapS3Error(err, { backend: name, bucket: opts.bucket, path });
  };
  return {
    describe: () => name,
    close: () => client.destroy(),
    list: (dir) => listNames(client, { bucket: opts.bucket, prefix: `${key(dir)}/` }).catch((err) => fail(err, dir)),
    async read(path) {
      checkRelativePath(name, path);
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: opts.bucket, Key: key(path) }));
        if (res.Body === undefined) return new Uint8Array(0);
        return await res.Body.transformToByteArray();
      } catch (err) {
        return fail(err, path);
      }
    },
    async remove(path) {
      checkRelativePath(name, path);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: opts.bucket, Key: key(path) }));
      } catch (err) {
        if (!(mapS3Error(err, { backend: name, bucket: opts.bucket, path }) instanceof BackendNotFoundError)) fail(err, path);
      }
    },
  };
}

/** Every object name directly under `prefix` (ListObjectsV2 with a delimiter, all pages). */
async function listNames(client: S3Client, where: { bucket: string; prefix: string }): Promise<string[]> {
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: where.bucket, Prefix: where.prefix, Delimiter: "/", ContinuationToken: token }),
    );
    for (const obj of page.Contents ?? []) {
      if (obj.Key !== undefined && obj.Key.length > where.prefix.length) names.push(obj.Key.slice(where.prefix.length));
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return names;
}

const DENIED_NAMES = new Set([
  "AccessDenied",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "InvalidToken",
  "ExpiredToken",
  "AllAccessDisabled",
  "InvalidSecurity",
  // versitygw answers an unknown access key with this (HTTP 404) instead of InvalidAccessKeyId.
  "XAdminUserNotFound",
]);
const UNREACHABLE_NAMES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException", "ServiceUnavailable", "SlowDown"]);

export interface S3ErrorContext {
  readonly backend: string;
  readonly bucket: string;
  readonly path: string;
}

export type S3ErrorKind = "NotFound" | "NoSuchBucket" | "Denied" | "Unreachable" | "Other";

/** Classifies an S3 SDK error by its name, HTTP status and underlying socket error code. */
export function classifyS3Error(err: unknown): S3ErrorKind {
  const e = (typeof err === "object" && err !== null ? err : {}) as { name?: unknown; $metadata?: { httpStatusCode?: number } };
  const byName = classifyName(typeof e.name === "string" ? e.name : "");
  if (byName !== "Other") return byName;
  const byStatus = classifyStatus(e.$metadata?.httpStatusCode);
  if (byStatus !== "Other") return byStatus;
  return classifySystemError(err) === "Unreachable" ? "Unreachable" : "Other";
}

function classifyName(name: string): S3ErrorKind {
  if (name === "NoSuchBucket") return "NoSuchBucket";
  if (name === "NoSuchKey" || name === "NotFound") return "NotFound";
  if (DENIED_NAMES.has(name)) return "Denied";
  return UNREACHABLE_NAMES.has(name) ? "Unreachable" : "Other";
}

function classifyStatus(status: number | undefined): S3ErrorKind {
  if (status === 404) return "NotFound";
  if (status === 401 || status === 403) return "Denied";
  return status !== undefined && status >= 500 ? "Unreachable" : "Other";
}

/** Turns an S3 SDK error into the reader's errors; the message names the repository and what to fix. */
export function mapS3Error(err: unknown, ctx: S3ErrorContext): Error {
  const base = { repository: ctx.backend, file: ctx.path, cause: err };
  switch (classifyS3Error(err)) {
    case "NotFound":
      return new BackendNotFoundError(ctx.backend, ctx.path, err);
    case "NoSuchBucket":
      return new ResticRepoError({ ...base, code: "RepositoryNotFound", detail: `bucket ${ctx.bucket} does not exist` });
    case "Denied":
      return new ResticRepoError({
        ...base,
        code: "AccessDenied",
        detail: `S3 denied access (${describeCause(err)}); check the access key ID and secret key and that they may read (and delete) objects in bucket ${ctx.bucket}`,
      });
    case "Unreachable":
      return new ResticRepoError({
        ...base,
        code: "BackendUnreachable",
        detail: `S3 endpoint is not reachable (${describeCause(err)}); check the endpoint URL, DNS and network`,
      });
    default:
      return new ResticRepoError({ ...base, code: "BackendUnreachable", detail: `S3 request failed: ${describeCause(err)}` });
  }
}

