import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { V1Pod } from "@kubernetes/client-node";
import { shouldBind } from "./scheduling.ts";
import type { BindPolicy } from "./scheduling.ts";

const node = { name: "agent-node", labels: { "kubernetes.io/hostname": "agent-node", zone: "a" } };
const pod = (spec: Partial<NonNullable<V1Pod["spec"]>> = {}, status: V1Pod["status"] = {}): V1Pod => ({ metadata: { name: "p" }, spec: { containers: [], ...spec }, status });
const unschedulable = { conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable" }] };
const affinity = (key: string, operator: string, values?: string[]) => ({
  nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key, operator, values }] }] } },
});

describe("shouldBind", () => {
  const cases: { name: string; pod: V1Pod; policy: BindPolicy; want: boolean }[] = [
    { name: "unbound pod, always", pod: pod(), policy: "always", want: true },
    { name: "already bound", pod: pod({ nodeName: "other" }), policy: "always", want: false },
    { name: "never", pod: pod(), policy: "never", want: false },
    { name: "unschedulable policy waits for the scheduler", pod: pod(), policy: "unschedulable", want: false },
    { name: "unschedulable policy binds an Unschedulable pod", pod: pod({}, unschedulable), policy: "unschedulable", want: true },
    { name: "nodeSelector for another node", pod: pod({ nodeSelector: { "kubernetes.io/hostname": "kwok-node" } }), policy: "always", want: false },
    { name: "nodeSelector matching", pod: pod({ nodeSelector: { zone: "a" } }), policy: "always", want: true },
    { name: "affinity In other node", pod: pod({ affinity: affinity("kubernetes.io/hostname", "In", ["kwok-node"]) }), policy: "always", want: false },
    { name: "affinity NotIn other node", pod: pod({ affinity: affinity("kubernetes.io/hostname", "NotIn", ["kwok-node"]) }), policy: "always", want: true },
    { name: "affinity Exists", pod: pod({ affinity: affinity("zone", "Exists") }), policy: "always", want: true },
    { name: "affinity DoesNotExist", pod: pod({ affinity: affinity("zone", "DoesNotExist") }), policy: "unschedulable", want: false },
    {
      name: "matchFields metadata.name",
      pod: pod({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["agent-node"] }] }] } } } }),
      policy: "always",
      want: true,
    },
    { name: "being deleted", pod: { ...pod(), metadata: { name: "p", deletionTimestamp: new Date() } }, policy: "always", want: false },
  ];
  for (const tc of cases) it(tc.name, () => assert.equal(shouldBind(tc.pod, node, tc.policy), tc.want));
});
