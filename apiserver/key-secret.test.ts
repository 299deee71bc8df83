import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { entriesOf } from "./key-secret.ts";

const name = `${"0f".repeat(32)}.key`;
const b64 = (s: string): string => Buffer.from(s).toString("base64");

describe("entriesOf: the sealed entries of the key Secret's data", () => {
  const cases: { name: string; data: Record<string, string> | null | undefined; expect: Record<string, string> }[] = [
    { name: "no data (the Secret as the manifests create it)", data: undefined, expect: {} },
    { name: "data: null", data: null, expect: {} },
    { name: "an entry, decoded from base64", data: { [name]: b64("sealed") }, expect: { [name]: "sealed" } },
    { name: "keys that are not ours are left out", data: { [name]: b64("sealed"), note: b64("x"), "ab.key": b64("y"), [`${"0F".repeat(32)}.key`]: b64("z") }, expect: { [name]: "sealed" } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = Object.fromEntries([...entriesOf({ data: c.data }).entries()].map(([k, v]) => [k, v.toString("utf8")]));
      assert.deepEqual(got, c.expect);
    });
  }
});
