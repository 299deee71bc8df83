/**
 * CustomResourceDefinitions generated from the zod schemas: one source for the TypeScript
 * types and for the openAPIV3Schema that `kubectl explain` reads.
 * @module
 */
import { z } from "zod";
import { CATEGORY, GROUP, VERSION } from "./group.ts";
import type { KindInfo } from "./kinds.ts";

type JsonSchema = { [key: string]: unknown };

/** Keys zod writes that mean nothing to the apiserver: JS number bounds, a date regex. */
function dropped(key: string, value: unknown, node: JsonSchema): boolean {
  if (key === "$schema") return true;
  if (key === "maximum" || key === "minimum") return Math.abs(Number(value)) >= Number.MAX_SAFE_INTEGER;
  return key === "pattern" && node["format"] === "date-time";
}

/** zod's output, made structural: no JS-only bounds, metadata left to the apiserver. */
function structural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(structural);
  if (node === null || typeof node !== "object") return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (!dropped(key, value, node as JsonSchema)) out[key] = structural(value);
  }
  if (out["type"] === "integer" && out["format"] === undefined) out["format"] = "int64";
  return out;
}

/** The openAPIV3Schema of a kind. Metadata is described by the apiserver itself. */
export function openAPIV3Schema(info: KindInfo): JsonSchema {
  const schema = structural(z.toJSONSchema(info.schema, { target: "openapi-3.0", io: "input" })) as JsonSchema;
  const props = schema["properties"] as Record<string, JsonSchema>;
  props["metadata"] = { type: "object" };
  schema["required"] = ["spec"];
  return schema;
}

export function customResourceDefinition(info: KindInfo): JsonSchema {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${info.plural}.${GROUP}`, labels: { "app.kubernetes.io/part-of": "podwarden-backup" } },
    spec: {
      group: GROUP,
      scope: info.scope,
      names: {
        kind: info.kind,
        listKind: `${info.kind}List`,
        plural: info.plural,
        singular: info.singular,
        shortNames: [...info.shortNames],
        categories: [CATEGORY],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: info.columns.map((c) => ({ ...c })),
          schema: { openAPIV3Schema: openAPIV3Schema(info) },
        },
      ],
    },
  };
}
