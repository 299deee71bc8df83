/**
 * May the agent bind an unscheduled pod to its own node? Only when the pod's nodeSelector and
 * required node affinity allow that node (the agent's node has no taints). Pure.
 * @module
 */
import type { V1NodeSelectorRequirement, V1NodeSelectorTerm, V1Pod } from "@kubernetes/client-node";

export interface NodeFacts {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

function requirementHolds(r: V1NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
      return value !== undefined && Number(value) > Number(values[0]);
    case "Lt":
      return value !== undefined && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

function termHolds(term: V1NodeSelectorTerm, node: NodeFacts): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false; // an empty term matches nothing
  const labelsOk = exprs.every((r) => requirementHolds(r, Object.hasOwn(node.labels, r.key) ? node.labels[r.key] : undefined));
  const fieldsOk = fields.every((r) => requirementHolds(r, r.key === "metadata.name" ? node.name : undefined));
  return labelsOk && fieldsOk;
}

/** True when `pod` (not yet bound) may run on `node`. */
export function podFitsNode(pod: V1Pod, node: NodeFacts): boolean {
  const selector = pod.spec?.nodeSelector ?? {};
  if (!Object.entries(selector).every(([k, v]) => node.labels[k] === v)) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return required.nodeSelectorTerms.some((t) => termHolds(t, node));
}

export const BIND_POLICIES = ["always", "unschedulable", "never"] as const;
/**
 * When the agent binds unbound pods to its own node:
 * `always` — at once (no scheduler running, or racing it is fine);
 * `unschedulable` — only after the scheduler marked the pod Unschedulable;
 * `never` — leave binding to the scheduler.
 */
export type BindPolicy = (typeof BIND_POLICIES)[number];

/** Should the agent bind this unbound pod now? */
export function shouldBind(pod: V1Pod, node: NodeFacts, policy: BindPolicy): boolean {
  if (pod.spec?.nodeName || pod.metadata?.deletionTimestamp || policy === "never") return false;
  if (!podFitsNode(pod, node)) return false;
  if (policy === "always") return true;
  return (pod.status?.conditions ?? []).some((c) => c.type === "PodScheduled" && c.status === "False" && c.reason === "Unschedulable");
}
