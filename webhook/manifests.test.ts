import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { GROUP } from "../api/index.ts";

type Webhook = { rules: { apiGroups: string[]; resources: string[] }[]; sideEffects: string; timeoutSeconds: number; admissionReviewVersions: string[] };

const files = ["mutatingwebhookconfiguration.yaml", "validatingwebhookconfiguration.yaml"];

describe("webhook configurations", () => {
  for (const file of files) {
    const doc = parse(readFileSync(new URL(`../manifests/webhook/${file}`, import.meta.url), "utf8")) as { webhooks: Webhook[] };
    it(`${file} matches only our group, never a subresource, with no side effects and a timeout`, () => {
      for (const hook of doc.webhooks) {
        assert.equal(hook.sideEffects, "None");
        assert.ok(hook.timeoutSeconds >= 1 && hook.timeoutSeconds <= 10);
        assert.deepEqual(hook.admissionReviewVersions, ["v1"]);
        for (const rule of hook.rules) {
          assert.deepEqual(rule.apiGroups, [GROUP]);
          for (const r of rule.resources) assert.doesNotMatch(r, /\/|\*/, `${r} must be a plain resource`);
        }
      }
    });
  }
});
