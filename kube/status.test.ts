import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { failure, reasonForCode } from "./status.ts";

describe("failure", () => {
  it("carries the reason's HTTP code", () => {
    assert.deepEqual(failure("Forbidden", "no", { name: "x" }), { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "no", reason: "Forbidden", code: 403, details: { name: "x" } });
  });
});

describe("reasonForCode", () => {
  const cases: [number, string][] = [[404, "NotFound"], [415, "UnsupportedMediaType"], [418, "BadRequest"], [502, "InternalError"]];
  for (const [code, reason] of cases) it(`${code} → ${reason}`, () => assert.equal(reasonForCode(code), reason));
});
