import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fastJsonPatch from "fast-json-patch";
import { fixedContext } from "../api/validate/testing.ts";
import { policyObject, review } from "./fixtures.ts";
import type { TestServer } from "./testing.ts";
import { startTestServer } from "./testing.ts";

type Response = { uid: string; allowed: boolean; patch?: string; patchType?: string; warnings?: string[]; status?: { code: number; reason: string; message: string } };

let server: TestServer;
before(async () => (server = await startTestServer()));
after(async () => server.close());

async function admit(path: "/mutate" | "/validate", body: object): Promise<Response> {
  const res = await server.post(path, body);
  assert.equal(res.status, 200);
  assert.equal(res.json["apiVersion"], "admission.k8s.io/v1");
  assert.equal(res.json["kind"], "AdmissionReview");
  return res.json["response"] as Response;
}

function applyPatch(obj: object, patch: string): Record<string, unknown> {
  const ops = JSON.parse(Buffer.from(patch, "base64").toString()) as fastJsonPatch.Operation[];
  return fastJsonPatch.applyPatch(structuredClone(obj), ops).newDocument as Record<string, unknown>;
}

describe("POST /mutate", () => {
  it("allows a new policy with a JSON Patch of its defaults", async () => {
    const res = await admit("/mutate", review({ uid: "u-1" }));
    assert.equal(res.uid, "u-1");
    assert.equal(res.allowed, true);
    assert.equal(res.patchType, "JSONPatch");
    const spec = applyPatch(policyObject(), res.patch!)["spec"] as Record<string, unknown>;
    assert.deepEqual(spec["retention"], { keepLast: 7, keepDaily: 7, keepWeekly: 4 });
    assert.equal(spec["schedule"], "0 2 * * *");
    assert.equal(spec["mode"], "hot");
    assert.deepEqual(spec["repository"], { path: "backups/test/app-abcd1234", passwordSecretName: "pw-backup-abcd1234" });
  });

  it("sends no patch when the object is already defaulted", async () => {
    const first = await admit("/mutate", review());
    const defaulted = applyPatch(policyObject(), first.patch!);
    const res = await admit("/mutate", review({ object: defaulted }));
    assert.equal(res.allowed, true);
    assert.equal(res.patch, undefined);
    assert.equal(res.patchType, undefined);
  });

  it("keeps the repository on UPDATE when the new object drops it", async () => {
    const old = policyObject({ repository: { path: "backups/test/app-1", passwordSecretName: "pw-backup-1" } });
    const res = await admit("/mutate", review({ operation: "UPDATE", object: policyObject(), oldObject: old }));
    const spec = applyPatch(policyObject(), res.patch!)["spec"] as Record<string, unknown>;
    assert.deepEqual(spec["repository"], { path: "backups/test/app-1", passwordSecretName: "pw-backup-1" });
  });

  it("answers a dry run exactly like a real request (no side effects either way)", async () => {
    const res = await admit("/mutate", review({ dryRun: true }));
    assert.equal(res.allowed, true);
    assert.ok(res.patch);
  });

  it("defaults a BackupRun's trigger", async () => {
    const run = { metadata: { name: "r1", namespace: "team-a" }, spec: { policyRef: { name: "pw-backup-app" } } };
    const res = await admit("/mutate", review({ kind: "BackupRun", object: run }));
    assert.deepEqual((applyPatch(run, res.patch!)["spec"] as Record<string, unknown>)["trigger"], "Manual");
  });

  it("allows StorageConnections unchanged", async () => {
    const res = await admit("/mutate", review({ kind: "StorageConnection", object: { metadata: { name: "nas" }, spec: { type: "nfs" } } }));
    assert.deepEqual(res, { uid: "705ab4f5-6393-11e8-b7cc-42010a800002", allowed: true });
  });
});

describe("POST /validate", () => {
  it("allows a valid policy", async () => {
    const res = await admit("/validate", review());
    assert.equal(res.allowed, true);
    assert.equal(res.patch, undefined);
  });

  it("denies an invalid policy with code 422 and field-path messages", async () => {
    const res = await admit("/validate", review({ object: policyObject({ schedule: "0 25 * * *", storageRef: { name: "gone" } }) }));
    assert.equal(res.allowed, false);
    assert.equal(res.status?.code, 422);
    assert.equal(res.status?.reason, "Invalid");
    assert.match(res.status!.message, /^BackupPolicy "pw-backup-app" is invalid: \[spec\.schedule: Invalid value: "0 25 \* \* \*": hour field "25"/);
    assert.match(res.status!.message, /spec\.storageRef\.name: Not found: "gone"/);
  });

  it("carries warnings on an allowed request", async () => {
    const res = await admit("/validate", review({ object: policyObject({ schedule: "* * * * *", workloadRef: { kind: "Deployment", name: "later" } }) }));
    assert.equal(res.allowed, true);
    assert.deepEqual(res.warnings, [
      "spec.workloadRef: Deployment team-a/later does not exist yet; runs fail until it does",
      "spec.schedule: runs every 1 minute(s); backups more often than every 5 minutes may overlap and load the storage",
    ]);
  });

  it("denies an UPDATE that changes an immutable field", async () => {
    const old = policyObject({ repository: { path: "backups/a/b", passwordSecretName: "pw-backup-b" } });
    const res = await admit("/validate", review({ operation: "UPDATE", oldObject: old, object: policyObject({ repository: { path: "backups/a/c", passwordSecretName: "pw-backup-b" } }) }));
    assert.equal(res.allowed, false);
    assert.equal(res.status?.message, 'BackupPolicy "pw-backup-app" is invalid: spec.repository: Invalid value: field is immutable: changing it would lose access to every existing backup');
  });

  it("allows an update of an object being deleted (finalizer removal)", async () => {
    const obj = { ...policyObject({ schedule: "bad" }), metadata: { name: "x", namespace: "team-a", deletionTimestamp: "2026-01-01T00:00:00Z" } };
    assert.equal((await admit("/validate", review({ operation: "UPDATE", object: obj, oldObject: obj }))).allowed, true);
  });

  it("allows DELETE (nothing to check)", async () => {
    assert.equal((await admit("/validate", review({ operation: "DELETE", object: null, oldObject: policyObject() }))).allowed, true);
  });

  it("denies a BackupRun for a policy that does not exist", async () => {
    const res = await admit("/validate", review({ kind: "BackupRun", object: { metadata: { name: "r", namespace: "team-a" }, spec: { policyRef: { name: "nope" } } } }));
    assert.equal(res.allowed, false);
    assert.match(res.status!.message, /^BackupRun "r" is invalid: spec\.policyRef\.name: Not found: "nope"/);
  });

  it("denies a kind that is not ours", async () => {
    const body = review();
    (body["request"] as Record<string, unknown>)["kind"] = { group: "apps", version: "v1", kind: "Deployment" };
    const res = await admit("/validate", body);
    assert.equal(res.allowed, false);
    assert.equal(res.status?.code, 400);
    assert.match(res.status!.message, /admits only backup\.podwarden\.io kinds .*got apps\/v1 Deployment/);
  });

  it("fails closed: a lookup that throws denies with 500", async () => {
    const broken = { ...fixedContext({}), storageConnectionExists: (): boolean => { throw new Error("boom"); } };
    const s = await startTestServer(broken);
    try {
      const res = await s.post("/validate", review());
      const response = res.json["response"] as Response;
      assert.equal(response.allowed, false);
      assert.equal(response.status?.code, 500);
      assert.match(response.status!.message, /fail closed/);
    } finally {
      await s.close();
    }
  });
});

describe("malformed input", () => {
  const cases: { name: string; body: string; contentType?: string; status: number; message: RegExp }[] = [
    { name: "not JSON", body: "{not json", status: 400, message: /request body is not valid JSON/ },
    { name: "a JSON array", body: "[1,2]", status: 400, message: /body must be a JSON object/ },
    { name: "a JSON string", body: '"x"', status: 400, message: /body must be a JSON object/ },
    { name: "v1beta1 review", body: JSON.stringify({ ...review(), apiVersion: "admission.k8s.io/v1beta1" }), status: 400, message: /must be admission\.k8s\.io\/v1 AdmissionReview/ },
    { name: "no request", body: JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" }), status: 400, message: /request must be an object/ },
    { name: "no uid", body: JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { kind: {} } }), status: 400, message: /request\.uid must be a non-empty string/ },
    { name: "object is a string", body: JSON.stringify(review({ object: "x" })), status: 400, message: /request\.object and request\.oldObject must be objects or null/ },
    { name: "wrong content type", body: "x", contentType: "text/plain", status: 415, message: /Content-Type must be application\/json/ },
    { name: "too large", body: JSON.stringify({ pad: "x".repeat(4 * 1024 * 1024) }), status: 413, message: /larger than 3mb/ },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.status}`, async () => {
      const res = await server.post("/validate", c.body, c.contentType);
      assert.equal(res.status, c.status);
      assert.equal(res.json["kind"], "Status");
      assert.match(String(res.json["message"]), c.message);
    });
  }

  it("unknown paths get a 404 that says what is served", async () => {
    const res = await server.post("/other", review());
    assert.equal(res.status, 404);
    assert.match(String(res.json["message"]), /POST \/mutate and POST \/validate/);
  });
});
