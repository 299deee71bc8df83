import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { renderKubeconfig } from "./kubeconfig.ts";

describe("renderKubeconfig", () => {
  const base = { server: "https://127.0.0.1:6443", caPem: "CA", userName: "alice", clientCertPem: "CERT", clientKeyPem: "KEY" };
  const cases = [
    { name: "default namespace", input: base, namespace: undefined },
    { name: "explicit namespace", input: { ...base, namespace: "team-a" }, namespace: "team-a" },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const cfg = parse(renderKubeconfig(tc.input)) as Record<string, unknown> & {
        clusters: { cluster: Record<string, string> }[];
        users: { name: string; user: Record<string, string> }[];
        contexts: { name: string; context: Record<string, string> }[];
      };
      assert.equal(cfg["current-context"], "alice");
      assert.equal(cfg.clusters[0]?.cluster.server, "https://127.0.0.1:6443");
      assert.equal(Buffer.from(cfg.clusters[0]?.cluster["certificate-authority-data"] ?? "", "base64").toString(), "CA");
      assert.equal(Buffer.from(cfg.users[0]?.user["client-certificate-data"] ?? "", "base64").toString(), "CERT");
      assert.equal(Buffer.from(cfg.users[0]?.user["client-key-data"] ?? "", "base64").toString(), "KEY");
      assert.equal(cfg.contexts[0]?.context.user, "alice");
      assert.equal(cfg.contexts[0]?.context.namespace, tc.namespace);
    });
  }
});
