/**
 * The CRD YAML files as they must be checked in (shared by the generator and the drift test).
 * @module
 */
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { customResourceDefinition } from "./crd.ts";
import { KINDS } from "./group.ts";
import { KIND_INFO } from "./kinds.ts";

export const CRD_DIR = fileURLToPath(new URL("../manifests/crds/", import.meta.url));

const HEADER = "# Generated from api/ by `npm run gen:crds`. Do not edit by hand.\n";

export function crdFiles(): { path: string; text: string }[] {
  return KINDS.map((kind) => {
    const info = KIND_INFO[kind];
    return { path: `${CRD_DIR}${info.plural}.yaml`, text: HEADER + stringify(customResourceDefinition(info), { lineWidth: 0 }) };
  });
}
