import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { openAPIV3Schema } from "./crd.ts";
import { crdFiles } from "./crd-files.ts";
import { KINDS } from "./group.ts";
import { KIND_INFO } from "./kinds.ts";

type Node = { [key: string]: unknown };

/** Every property below spec and status must carry a description, so kubectl explain teaches it. */
function undescribed(node: Node, path: string): string[] {
  const missing: string[] = [];
  const props = (node["properties"] ?? {}) as Record<string, Node>;
  for (const [key, child] of Object.entries(props)) {
    const here = `${path}.${key}`;
    if (key !== "metadata" && typeof child["description"] !== "string") missing.push(here);
    missing.push(...undescribed(child, here));
  }
  const items = node["items"] as Node | undefined;
  if (items) missing.push(...undescribed(items, `${path}[]`));
  return missing;
}

/** Structural schema rules the apiserver enforces: a type everywhere, no properties+additionalProperties. */
function nonStructural(node: Node, path: string): string[] {
  const bad: string[] = [];
  if (typeof node["type"] !== "string") bad.push(`${path}: no type`);
  if (node["properties"] && node["additionalProperties"] !== undefined) bad.push(`${path}: properties with additionalProperties`);
  for (const key of ["anyOf", "oneOf", "allOf", "$ref", "nullable"]) if (key in node) bad.push(`${path}: ${key}`);
  for (const [key, child] of Object.entries((node["properties"] ?? {}) as Record<string, Node>)) bad.push(...nonStructural(child, `${path}.${key}`));
  if (node["items"]) bad.push(...nonStructural(node["items"] as Node, `${path}[]`));
  return bad;
}

describe("CRDs", () => {
  for (const file of crdFiles()) {
    it(`${file.path.split("/").pop()} is up to date (npm run gen:crds)`, () => {
      assert.equal(readFileSync(file.path, "utf8"), file.text);
    });
  }
  for (const kind of KINDS) {
    const schema = openAPIV3Schema(KIND_INFO[kind]);
    it(`${kind}: every field has a description`, () => assert.deepEqual(undescribed(schema, kind), []));
    it(`${kind}: the schema is structural`, () => assert.deepEqual(nonStructural(schema, kind), []));
  }
});
