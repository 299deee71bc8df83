import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { responseTransformer, rewriteExitStatus, SpdyStatusRewriter } from "./kwok-exec-proxy.ts";

const kwokFailure = (message: string) => JSON.stringify({ status: "Failure", message, reason: "InternalError", code: 500 });

describe("rewriteExitStatus", () => {
  const cases = [
    { name: "KWOK exit status", payload: kwokFailure("Internal error occurred: error executing command in container: cmd wait: sh -c exit 3: exit status 3"), code: "3" },
    { name: "with captured stderr after it", payload: kwokFailure("error executing command in container: cmd wait: false : exit status 1\nsome stderr"), code: "1" },
    { name: "success", payload: JSON.stringify({ status: "Success" }), code: undefined },
    { name: "killed by a signal", payload: kwokFailure("error executing command in container: cmd wait: sleep 9: signal: killed"), code: undefined },
    { name: "not JSON", payload: "{", code: undefined },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const out = rewriteExitStatus(tc.payload);
      if (tc.code === undefined) return assert.equal(out, undefined);
      const status = JSON.parse(out ?? "{}") as { reason: string; details: { causes: { reason: string; message: string }[] } };
      assert.equal(status.reason, "NonZeroExitCode");
      assert.deepEqual(status.details.causes, [{ reason: "ExitCode", message: tc.code }]);
    });
  }
});

function frame(streamId: number, flags: number, payload: string): Buffer {
  const body = Buffer.from(payload);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId, 0);
  head.writeUInt8(flags, 4);
  head.writeUIntBE(body.length, 5, 3);
  return Buffer.concat([head, body]);
}

describe("SpdyStatusRewriter", () => {
  const control = Buffer.from([0x80, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0xaa, 0xbb]);
  const status = kwokFailure("error executing command in container: cmd wait: x: exit status 7");
  const input = Buffer.concat([control, frame(3, 0, "stdout"), frame(1, 1, status)]);
  it("rewrites only the error stream, byte-split anywhere", () => {
    for (const cut of [1, 5, 9, 13, input.length - 3]) {
      const r = new SpdyStatusRewriter();
      const out = Buffer.concat([r.push(input.subarray(0, cut)), r.push(input.subarray(cut))]);
      assert.deepEqual(out.subarray(0, control.length + 14), Buffer.concat([control, frame(3, 0, "stdout")]));
      const last = out.subarray(control.length + 14);
      assert.equal(last.readUInt32BE(0), 1);
      assert.equal(last.readUInt8(4), 1, "FIN flag kept");
      assert.equal(last.readUIntBE(5, 3), last.length - 8);
      assert.match(last.subarray(8).toString(), /"NonZeroExitCode"/);
    }
  });
});

describe("responseTransformer", () => {
  it("passes non-upgrade responses through untouched", () => {
    const t = responseTransformer();
    const body = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n${"\x00\x00\x00\x01"}abc`);
    assert.deepEqual(Buffer.concat([t(body.subarray(0, 10)), t(body.subarray(10))]), body);
  });
  it("switches to SPDY frames after 101", () => {
    const t = responseTransformer();
    const head = Buffer.from("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n");
    const status = kwokFailure("error executing command in container: cmd wait: x: exit status 2");
    const out = Buffer.concat([t(head), t(frame(1, 1, status))]);
    assert.ok(out.subarray(0, head.length).equals(head));
    assert.match(out.subarray(head.length + 8).toString(), /"message":"2"/);
  });
});
