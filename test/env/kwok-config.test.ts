import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { EXEC_READY_ANNOTATION, execObject, kwokArgs, stagesYaml } from "./kwok-config.ts";
import { schedulerArgs } from "./scheduler.ts";

interface Stage {
  metadata: { name: string };
  spec: { resourceRef: { kind: string }; selector: { matchExpressions: { key: string; operator: string }[] }; next: { statusTemplate?: string; delete?: boolean } };
}

describe("stagesYaml", () => {
  const stages = parseAllDocuments(stagesYaml({ kubeletPort: 4321, excludeLabel: "backup.podwarden.io/component" })).map((d) => d.toJS() as Stage);
  it("has node and pod stages", () => {
    assert.deepEqual(stages.map((s) => `${s.spec.resourceRef.kind}/${s.metadata.name}`), ["Node/pw-node-initialize", "Node/pw-node-heartbeat", "Pod/pw-pod-ready", "Pod/pw-pod-delete"]);
  });
  it("advertises the kubelet port on loopback", () => {
    const tpl = stages[0]?.spec.next.statusTemplate ?? "";
    assert.match(tpl, /Port: 4321/);
    assert.match(tpl, /address: 127\.0\.0\.1/);
  });
  const podStages = ["pw-pod-ready", "pw-pod-delete"];
  for (const name of podStages) {
    it(`${name} skips the node agent's pods`, () => {
      const exprs = stages.find((s) => s.metadata.name === name)?.spec.selector.matchExpressions ?? [];
      assert.ok(exprs.some((e) => e.key === '.metadata.labels["backup.podwarden.io/component"]' && e.operator === "DoesNotExist"));
    });
  }
  it("pw-pod-ready waits for the Exec object", () => {
    const exprs = stages.find((s) => s.metadata.name === "pw-pod-ready")?.spec.selector.matchExpressions ?? [];
    assert.ok(exprs.some((e) => e.key === `.metadata.annotations["${EXEC_READY_ANNOTATION}"]` && e.operator === "Exists"));
  });
});

describe("command lines", () => {
  it("kwok manages only its labelled node, serves plain HTTP, watches Exec objects", () => {
    const args = kwokArgs({ kubeconfig: "/k", configPath: "/c", nodeName: "n1", serverPort: 1, kubeletPort: 2 });
    for (const a of ["--manage-all-nodes=false", "--manage-nodes-with-label-selector=kwok.podwarden.io/node=n1", "--server-address=127.0.0.1:1", "--node-port=2", "--enable-crds=Exec"]) assert.ok(args.includes(a), a);
  });
  it("kube-scheduler runs without leader election on loopback", () => {
    const args = schedulerArgs({ kubeconfig: "/k", port: 5, certDir: "/c" });
    for (const a of ["--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=5"]) assert.ok(args.includes(a), a);
  });
});

describe("execObject", () => {
  it("is owned by the pod and runs locally in the work dir", () => {
    const o = execObject({ namespace: "ns", podName: "p", podUid: "u", workDir: "/w", env: { A: "1" } }) as { metadata: { ownerReferences: { uid: string }[] }; spec: unknown };
    assert.equal(o.metadata.ownerReferences[0]?.uid, "u");
    assert.deepEqual(o.spec, { execs: [{ local: { workDir: "/w", envs: [{ name: "A", value: "1" }] } }] });
  });
});
