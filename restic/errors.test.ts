import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localBackend } from "./backend.ts";
import { BackendNotFoundError, ResticRepoError, classifySystemError, describeCause, errorCode } from "./errors.ts";
import type { SystemErrorKind } from "./errors.ts";
import { classifyS3Error, cleanPrefix, mapS3Error } from "./s3.ts";
import type { S3ErrorKind } from "./s3.ts";
import { mapLimit } from "./pool.ts";

const sys = (code: string): Error => Object.assign(new Error(`${code} happened`), { code });
const s3 = (name: string, status?: number, extra: object = {}): Error =>
  Object.assign(new Error(`${name} from S3`), { name, $metadata: status === undefined ? {} : { httpStatusCode: status }, ...extra });

describe("classifySystemError", () => {
  const cases: { err: unknown; want: SystemErrorKind }[] = [
    { err: sys("ENOENT"), want: "NotFound" },
    { err: sys("ECONNREFUSED"), want: "Unreachable" },
    { err: sys("ESTALE"), want: "Unreachable" },
    { err: sys("EACCES"), want: "Denied" },
    { err: new Error("fetch failed", { cause: sys("ENOTFOUND") }), want: "Unreachable" },
    { err: new AggregateError([sys("ECONNREFUSED"), sys("ECONNREFUSED")]), want: "Unreachable" },
    { err: sys("EISDIR"), want: "Other" },
    { err: "a string", want: "Other" },
  ];
  for (const c of cases) it(`${errorCode(c.err) ?? String(c.err)} → ${c.want}`, () => assert.equal(classifySystemError(c.err), c.want));
});

describe("S3 errors", () => {
  const cases: { name: string; err: unknown; kind: S3ErrorKind; code?: string }[] = [
    { name: "NoSuchKey", err: s3("NoSuchKey", 404), kind: "NotFound" },
    { name: "404 without a body", err: s3("NotFound", 404), kind: "NotFound" },
    { name: "NoSuchBucket", err: s3("NoSuchBucket", 404), kind: "NoSuchBucket", code: "RepositoryNotFound" },
    { name: "InvalidAccessKeyId", err: s3("InvalidAccessKeyId", 403), kind: "Denied", code: "AccessDenied" },
    { name: "SignatureDoesNotMatch", err: s3("SignatureDoesNotMatch", 403), kind: "Denied", code: "AccessDenied" },
    { name: "versitygw's unknown access key (a 404)", err: s3("XAdminUserNotFound", 404), kind: "Denied", code: "AccessDenied" },
    { name: "403 without a code", err: s3("Forbidden", 403), kind: "Denied", code: "AccessDenied" },
    { name: "connection refused", err: s3("Error", undefined, { code: "ECONNREFUSED" }), kind: "Unreachable", code: "BackendUnreachable" },
    { name: "DNS failure", err: s3("Error", undefined, { code: "ENOTFOUND" }), kind: "Unreachable", code: "BackendUnreachable" },
    { name: "SDK timeout", err: s3("TimeoutError"), kind: "Unreachable", code: "BackendUnreachable" },
    { name: "503", err: s3("ServiceUnavailable", 503), kind: "Unreachable", code: "BackendUnreachable" },
    { name: "an unknown 400", err: s3("InvalidArgument", 400), kind: "Other", code: "BackendUnreachable" },
  ];
  const ctx = { backend: "s3:http://127.0.0.1:1/bkt/pre", bucket: "bkt", path: "config" };
  for (const c of cases) {
    it(`${c.name} → ${c.kind}`, () => {
      assert.equal(classifyS3Error(c.err), c.kind);
      const mapped = mapS3Error(c.err, ctx);
      if (c.code === undefined) assert.ok(mapped instanceof BackendNotFoundError);
      else assert.ok(mapped instanceof ResticRepoError && mapped.code === c.code && mapped.message.includes(ctx.backend));
    });
  }
  it("the AccessDenied message says what to check", () => {
    assert.match(mapS3Error(s3("InvalidAccessKeyId", 403), ctx).message, /check the access key ID and secret key/);
  });
});

describe("cleanPrefix (like Go's path.Clean, as restic splits s3: locations)", () => {
  const cases: [string | undefined, string][] = [[undefined, ""], ["", ""], ["/", ""], ["a", "a"], ["/a//b/", "a/b"], ["./a/./b", "a/b"]];
  for (const [input, want] of cases) it(`${JSON.stringify(input)} → ${JSON.stringify(want)}`, () => assert.equal(cleanPrefix(input), want));
});

describe("localBackend", () => {
  it("lists a missing folder as empty, reads a missing file as BackendNotFoundError, removes idempotently", async () => {
    const root = await mkdtemp(join(tmpdir(), "pw-restic-local-"));
    try {
      const b = localBackend(root);
      assert.equal(b.describe(), `local:${root}`);
      assert.deepEqual(await b.list("snapshots"), []);
      await assert.rejects(b.read("config"), BackendNotFoundError);
      await b.remove(`snapshots/${"a".repeat(64)}`);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
  for (const bad of ["/etc/passwd", "../x", "snapshots/../../x", "", "a//b"]) {
    it(`refuses the path ${JSON.stringify(bad)}`, async () => {
      await assert.rejects(localBackend("/nonexistent").read(bad), RangeError);
    });
  }
});

describe("describeCause", () => {
  it("adds the code when the message lacks it", () => assert.equal(describeCause(Object.assign(new Error("boom"), { code: "EIO" })), "EIO: boom"));
  it("keeps a message that already has it", () => assert.equal(describeCause(sys("EIO")), "EIO happened"));
});

describe("mapLimit", () => {
  it("keeps order and never runs more than the limit at once", async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setImmediate(r));
      running--;
      return n * 2;
    });
    assert.deepEqual(out, [2, 4, 6, 8, 10, 12, 14]);
    assert.equal(peak, 3);
  });
  it("stops starting items after a failure and rejects with it", async () => {
    const started: number[] = [];
    await assert.rejects(
      mapLimit([1, 2, 3, 4, 5], 1, async (n) => {
        started.push(n);
        if (n === 2) throw new Error("two");
      }),
      /two/,
    );
    assert.deepEqual(started, [1, 2]);
  });
  it("refuses a limit of 0", async () => assert.rejects(mapLimit([1], 0, async () => 1), RangeError));
});
