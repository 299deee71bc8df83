/**
 * Writes manifests/crds/<plural>.yaml from the schemas in api/. Run: npm run gen:crds
 * @module
 */
import { writeFileSync } from "node:fs";
import { crdFiles } from "./crd-files.ts";

for (const file of crdFiles()) {
  writeFileSync(file.path, file.text);
  console.log(`wrote ${file.path}`);
}
