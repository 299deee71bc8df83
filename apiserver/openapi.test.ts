import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { openapiDocuments, openapiV2Document, openapiV3Document, SNAPSHOT_SCHEMA } from "./openapi.ts";

type Node = Record<string, unknown>;

/** Every `$ref` in the document, with the JSON pointer it names. */
function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refs(n, out);
  else if (node !== null && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

function resolve(doc: Node, ref: string): unknown {
  assert.ok(ref.startsWith("#/"), `${ref} must be local to the document`);
  return ref
    .slice(2)
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce<unknown>((n, key) => (n as Node | undefined)?.[key], doc);
}

/** Paths of object properties without a description (through $refs are not followed). */
function undescribed(schema: unknown, path: string, out: string[] = []): string[] {
  const s = schema as Node;
  const props = s["properties"] as Record<string, Node> | undefined;
  for (const [name, prop] of Object.entries(props ?? {})) {
    const p = `${path}.${name}`;
    if (prop["$ref"] === undefined && typeof prop["description"] !== "string") out.push(p);
    undescribed(prop, p, out);
    const items = prop["items"] as Node | undefined;
    if (items !== undefined) undescribed(items, `${p}[]`, out);
  }
  return out;
}

test("every $ref resolves inside the same document", async (t) => {
  for (const [name, doc] of [["v3", openapiV3Document()], ["v2", openapiV2Document()]] as const) {
    await t.test(name, () => {
      const all = refs(doc);
      assert.ok(all.length > 5);
      for (const r of all) assert.ok(resolve(doc, r) !== undefined, `${name}: ${r} does not resolve`);
      assert.ok(all.some((r) => r.endsWith("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")));
    });
  }
});

test("what kubectl explain needs is there (v3)", () => {
  const doc = openapiV3Document() as Node;
  const gvk = { group: "snapshots.backup.podwarden.io", version: "v1alpha1", kind: "Snapshot" };
  const path = (doc["paths"] as Node)["/apis/snapshots.backup.podwarden.io/v1alpha1/namespaces/{namespace}/snapshots/{name}"] as Node;
  assert.deepEqual((path["get"] as Node)["x-kubernetes-group-version-kind"], gvk);
  const schema = ((doc["components"] as Node)["schemas"] as Node)[SNAPSHOT_SCHEMA] as Node;
  assert.deepEqual(schema["x-kubernetes-group-version-kind"], [gvk]);
  assert.match(String(schema["description"]), /logical backup/);
  assert.deepEqual(undescribed(schema, "Snapshot"), []);
  const status = (schema["properties"] as Node)["status"] as Node;
  const phase = (status["properties"] as Node)["phase"] as Node;
  assert.deepEqual(phase["enum"], ["Complete", "Partial", "InProgress"]);
  const totals = ((status["properties"] as Node)["totals"] as Node)["properties"] as Node;
  assert.deepEqual(totals["sizeBytes"], { type: "integer", minimum: 0, description: (totals["sizeBytes"] as Node)["description"], format: "int64" });
});

test("the v3 root lists only our group-version, with the document's SHA-512", () => {
  const docs = openapiDocuments();
  const root = JSON.parse(docs.v3Root) as { paths: Record<string, { serverRelativeURL: string }> };
  assert.deepEqual(Object.keys(root.paths), ["apis/snapshots.backup.podwarden.io/v1alpha1"]);
  const hash = createHash("sha512").update(docs.v3).digest("hex").toUpperCase();
  assert.equal(root.paths["apis/snapshots.backup.podwarden.io/v1alpha1"]?.serverRelativeURL, `/openapi/v3/apis/snapshots.backup.podwarden.io/v1alpha1?hash=${hash}`);
  assert.equal((JSON.parse(docs.v2) as Node)["swagger"], "2.0");
});
