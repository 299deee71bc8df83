import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { commandLine, ContainerConfigError, expandRefs, fieldValue, resolveEnv } from "./env.ts";
import type { DataSources } from "./env.ts";

const pod: V1Pod = {
  metadata: { name: "backup-1", namespace: "shop", uid: "u-1", labels: { app: "db" }, annotations: { note: "x" } },
  spec: { nodeName: "agent-node", containers: [] },
};

const sources: DataSources = {
  secret: async (ns, name) => (ns === "shop" && name === "repo" ? { RESTIC_PASSWORD: "pw", AWS_KEY: "ak" } : undefined),
  configMap: async (ns, name) => (ns === "shop" && name === "cfg" ? { MODE: "hot" } : undefined),
};

describe("expandRefs", () => {
  const cases: { name: string; text: string; env: Record<string, string>; want: string }[] = [
    { name: "known variable", text: "$(A)/x", env: { A: "1" }, want: "1/x" },
    { name: "unknown stays", text: "$(B)", env: {}, want: "$(B)" },
    { name: "escaped $$", text: "$$(A) $$", env: { A: "1" }, want: "$(A) $" },
    { name: "plain shell $VAR untouched", text: "$A ${A}", env: { A: "1" }, want: "$A ${A}" },
  ];
  for (const tc of cases) it(tc.name, () => assert.equal(expandRefs(tc.text, tc.env), tc.want));
});

describe("fieldValue", () => {
  const cases = [
    { path: "metadata.name", want: "backup-1" },
    { path: "metadata.namespace", want: "shop" },
    { path: "spec.nodeName", want: "agent-node" },
    { path: "metadata.labels['app']", want: "db" },
    { path: "metadata.annotations['note']", want: "x" },
    { path: "status.podIP", want: "127.0.0.1" },
  ];
  for (const tc of cases) it(tc.path, () => assert.equal(fieldValue(pod, tc.path), tc.want));
  it("names unsupported paths", () => assert.throws(() => fieldValue(pod, "spec.hostname"), /fieldRef.fieldPath "spec.hostname" is not supported/));
});

describe("resolveEnv", () => {
  const cases: { name: string; c: Partial<V1Container>; want?: Record<string, string>; error?: RegExp }[] = [
    {
      name: "secretKeyRef, configMapKeyRef, fieldRef, value with $(ref)",
      c: {
        env: [
          { name: "P", valueFrom: { secretKeyRef: { name: "repo", key: "RESTIC_PASSWORD" } } },
          { name: "M", valueFrom: { configMapKeyRef: { name: "cfg", key: "MODE" } } },
          { name: "N", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "TAG", value: "run=$(N)" },
        ],
      },
      want: { PATH: "/bin", P: "pw", M: "hot", N: "backup-1", TAG: "run=backup-1" },
    },
    { name: "envFrom with prefix, env overrides", c: { envFrom: [{ prefix: "S_", secretRef: { name: "repo" } }], env: [{ name: "S_AWS_KEY", value: "over" }] }, want: { PATH: "/bin", S_RESTIC_PASSWORD: "pw", S_AWS_KEY: "over" } },
    { name: "optional missing key is skipped", c: { env: [{ name: "X", valueFrom: { secretKeyRef: { name: "repo", key: "nope", optional: true } } }] }, want: { PATH: "/bin" } },
    { name: "optional missing envFrom is skipped", c: { envFrom: [{ configMapRef: { name: "gone", optional: true } }] }, want: { PATH: "/bin" } },
    { name: "missing Secret", c: { env: [{ name: "X", valueFrom: { secretKeyRef: { name: "gone", key: "k" } } }] }, error: /env X: Secret shop\/gone does not exist/ },
    { name: "missing key", c: { env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "cfg", key: "k" } } }] }, error: /env X: ConfigMap shop\/cfg has no key "k"/ },
    { name: "missing envFrom ConfigMap", c: { envFrom: [{ configMapRef: { name: "gone" } }] }, error: /envFrom: ConfigMap shop\/gone does not exist/ },
  ];
  for (const tc of cases) {
    it(tc.name, async () => {
      const run = resolveEnv(pod, { name: "c", ...tc.c }, sources, { PATH: "/bin" });
      if (tc.error) await assert.rejects(run, (e: unknown) => e instanceof ContainerConfigError && tc.error!.test(e.message));
      else assert.deepEqual(await run, tc.want);
    });
  }
});

describe("commandLine", () => {
  const cases = [
    { name: "command and args, expanded", c: { name: "c", command: ["sh", "-c"], args: ["echo $(A)"] }, want: ["sh", "-c", "echo 1"] },
    { name: "args alone are the command", c: { name: "c", args: ["restic", "version"] }, want: ["restic", "version"] },
  ];
  for (const tc of cases) it(tc.name, () => assert.deepEqual(commandLine(tc.c, { A: "1" }), tc.want));
  it("rejects a container without command", () => assert.throws(() => commandLine({ name: "c" }, {}), /container c: no command or args/));
});
