/**
 * Fuzz: 10,000 random or mutated AdmissionReview bodies. Every answer must be a well-formed
 * AdmissionReview (200, the request's uid, allowed a boolean) or a 4xx Status, and the server
 * must stay up. Seeded, so a failure reproduces.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { policyObject, review } from "./fixtures.ts";
import type { TestServer } from "./testing.ts";
import { startTestServer } from "./testing.ts";

const CASES = 10_000;

/** mulberry32: a small seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

function randomValue(r: () => number, depth = 0): unknown {
  const choices = [
    () => null,
    () => r() < 0.5,
    () => Math.floor(r() * 2 ** 31) * (r() < 0.5 ? -1 : 1),
    () => r() * 1e300,
    () => pick(r, ["", "CREATE", "UPDATE", "volume", "postgres", "cold", "0 2 * * *", "@daily", "x".repeat(300), "__proto__", "constructor", "ü\u0000\ud800"]),
    () => (depth > 3 ? [] : Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1))),
    () => (depth > 3 ? {} : Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, () => [pick(r, ["spec", "metadata", "kind", "__proto__", "a"]), randomValue(r, depth + 1)]))),
  ];
  return pick(r, choices)();
}

/** Paths into a review where a mutation does the most damage. */
const TARGETS = [
  ["request"], ["request", "uid"], ["request", "kind"], ["request", "kind", "kind"], ["request", "kind", "group"], ["request", "operation"],
  ["request", "object"], ["request", "object", "spec"], ["request", "object", "spec", "schedule"], ["request", "object", "spec", "retention"],
  ["request", "object", "spec", "retention", "keepLast"], ["request", "object", "spec", "workloadRef"], ["request", "object", "spec", "storageRef"],
  ["request", "object", "spec", "type"], ["request", "object", "spec", "postgres"], ["request", "object", "spec", "preBackupHook"], ["request", "object", "metadata"],
  ["request", "oldObject"], ["request", "oldObject", "spec"], ["request", "namespace"], ["request", "dryRun"], ["apiVersion"], ["kind"],
] as const;

function mutated(r: () => number, i: number): unknown {
  const kind = pick(r, ["BackupPolicy", "BackupRun", "RestoreRun", "StorageConnection"] as const);
  const body = review({ uid: `fuzz-${i}`, kind, operation: pick(r, ["CREATE", "UPDATE", "DELETE"] as const), oldObject: r() < 0.3 ? policyObject() : undefined });
  for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
    const path = pick(r, TARGETS);
    let node = body as Record<string, unknown>;
    for (const key of path.slice(0, -1)) {
      if (node[key] === null || typeof node[key] !== "object") node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    const last = path[path.length - 1]!;
    if (r() < 0.2) delete node[last];
    else node[last] = randomValue(r);
  }
  return body;
}

function garbage(r: () => number): string {
  const bytes = Array.from({ length: Math.floor(r() * 200) }, () => String.fromCharCode(Math.floor(r() * 256)));
  return pick(r, [bytes.join(""), `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":${bytes.join("")}`, "[".repeat(5000), "{}", "null", "1e999999"]);
}

function checkAnswer(status: number, json: Record<string, unknown>, body: string): void {
  if (status >= 400 && status < 500) {
    assert.equal(json["kind"], "Status", body.slice(0, 200));
    assert.equal(typeof json["message"], "string");
    return;
  }
  assert.equal(status, 200, body.slice(0, 200));
  assert.equal(json["kind"], "AdmissionReview");
  const res = json["response"] as Record<string, unknown>;
  const req = (JSON.parse(body) as { request: { uid: string } }).request;
  assert.equal(res["uid"], req.uid);
  assert.equal(typeof res["allowed"], "boolean");
  if (res["allowed"] === false) assert.equal(typeof (res["status"] as Record<string, unknown>)["message"], "string");
  if (res["patch"] !== undefined) assert.equal(res["patchType"], "JSONPatch");
}

let server: TestServer;
before(async () => (server = await startTestServer()));
after(async () => server.close());

describe("webhook fuzz", () => {
  it(`answers ${CASES} random and mutated reviews well-formed, and stays up`, async () => {
    const r = rng(20261125);
    for (let i = 0; i < CASES; i++) {
      const body = r() < 0.8 ? JSON.stringify(mutated(r, i)) : garbage(r);
      const path = r() < 0.5 ? "/mutate" : "/validate";
      const res = await server.post(path, body);
      checkAnswer(res.status, res.json, body);
    }
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
  });
});
