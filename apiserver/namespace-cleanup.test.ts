import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isNamespaceCleanup } from "./namespace-cleanup.ts";

describe("isNamespaceCleanup", () => {
  const cases = [
    { name: "namespace controller ServiceAccount", username: "system:serviceaccount:kube-system:namespace-controller", want: true },
    { name: "kube-controller-manager without per-controller credentials", username: "system:kube-controller-manager", want: true },
    {
      name: "controller manager with other credentials, namespace controller client",
      username: "admin",
      userAgent: "kube-controller-manager/v1.33.13 (linux/amd64) kubernetes/abcdef0/namespace-controller",
      want: true,
    },
    { name: "kubectl user", username: "alice", userAgent: "kubectl/v1.33.1 (linux/amd64) kubernetes/abcdef0", want: false },
    {
      name: "another controller of the controller manager",
      username: "admin",
      userAgent: "kube-controller-manager/v1.33.13 (linux/amd64) kubernetes/abcdef0/generic-garbage-collector",
      want: false,
    },
    { name: "another ServiceAccount named alike", username: "system:serviceaccount:default:namespace-controller", want: false },
    { name: "agent mentions the controller but is not the controller manager", username: "bob", userAgent: "curl/8.0 /namespace-controller", want: false },
    { name: "no agent", username: "bob", want: false },
  ] as const;
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(isNamespaceCleanup({ username: c.username, ...("userAgent" in c ? { userAgent: c.userAgent } : {}) }), c.want);
    });
  }
});
