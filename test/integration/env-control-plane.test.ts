// A real control plane (etcd + kube-apiserver [+ kube-controller-manager]) starts, kubectl works
// through its kubeconfig, two run side by side, RBAC denies unknown users, and stop() leaves
// no process behind.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { startControlPlane } from "../env/control-plane.ts";
import type { ControlPlane } from "../env/control-plane.ts";
import { groupMembers } from "../env/procfs.ts";
import { tempDir, tools } from "../env/testing.ts";
import { waitFor, withLogTails } from "../env/wait.ts";

describe("control plane", () => {
  const dirA = tempDir("cp-a");
  const dirB = tempDir("cp-b");
  let a: ControlPlane;
  let b: ControlPlane;

  before(async () => {
    const common = { binDir: tools.binDir, kubectl: tools.kubectl, timeoutMs: 60_000 };
    [a, b] = await Promise.all([
      startControlPlane({ ...common, dir: dirA.path, controllerManager: true }),
      startControlPlane({ ...common, dir: dirB.path }),
    ]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    dirA.remove();
    dirB.remove();
  });
  const logs = () => [a, b].filter(Boolean);

  it("serves kubectl through the written kubeconfig", async (t) => {
    t.diagnostic(`cold start with KCM: ${JSON.stringify(a.timings)}; without: ${JSON.stringify(b.timings)}`);
    const res = spawnSync(tools.kubectl, [`--kubeconfig=${a.kubeconfigPath}`, "get", "ns", "-o", "name"], { encoding: "utf8" });
    assert.equal(res.status, 0, res.stderr);
    for (const ns of ["default", "kube-system", "kube-public"]) assert.match(res.stdout, new RegExp(`namespace/${ns}\\b`));
    assert.match(a.server, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it("runs two environments side by side, independently", async () => {
    await withLogTails(logs(), async () => {
      assert.notEqual(a.server, b.server);
      await a.kubectlOk(["create", "namespace", "only-in-a"]);
      const inB = await b.kubectl(["get", "namespace", "only-in-a"]);
      assert.equal(inB.code, 1);
      assert.match(inB.stderr, /NotFound|not found/);
    });
  });

  it("denies a user without RBAC bindings with 403", async () => {
    await withLogTails(logs(), async () => {
      const alice = await b.userKubeconfig({ name: "alice", groups: ["team-a"] });
      const res = await b.kubectl(["get", "pods", "-n", "default"], { kubeconfig: alice });
      assert.equal(res.code, 1);
      assert.match(res.stderr, /Forbidden.*User "alice" cannot list resource "pods"/);
      // An explicit Role: the aggregated ClusterRoles (view/edit/admin) get their rules from KCM, and b has none.
      await b.kubectlOk(["create", "role", "pod-reader", "--verb=list", "--resource=pods", "-n", "default"]);
      await b.kubectlOk(["create", "rolebinding", "alice-pods", "--role=pod-reader", "--user=alice", "-n", "default"]);
      await waitFor(async () => (await b.kubectl(["get", "pods", "-n", "default"], { kubeconfig: alice })).code === 0, {
        what: "alice can list pods after the RoleBinding",
        timeoutMs: 10_000,
      });
    });
  });

  it("kube-controller-manager made the default ServiceAccount and collects garbage", async () => {
    await withLogTails(logs(), async () => {
      await a.kubectlOk(["get", "serviceaccount", "default", "-n", "default"]);
      await a.kubectlOk(["create", "configmap", "owner", "-n", "default"]);
      const uid = (await a.kubectlOk(["get", "configmap", "owner", "-n", "default", "-o", "jsonpath={.metadata.uid}"])).trim();
      const dependent = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "dependent", namespace: "default", ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid }] },
      };
      await a.kubectlOk(["apply", "-f", "-"], { input: JSON.stringify(dependent) });
      await a.kubectlOk(["delete", "configmap", "owner", "-n", "default"]);
      await waitFor(async () => (await a.kubectl(["get", "configmap", "dependent", "-n", "default"])).code === 1, {
        what: "garbage collector deletes the dependent ConfigMap",
        timeoutMs: 30_000,
        intervalMs: 250,
      });
    });
  });

  it("stop() leaves no process of any component", async () => {
    const groups = [...a.processes, ...b.processes];
    assert.deepEqual(groups.map((p) => p.name).sort(), ["etcd", "etcd", "kube-apiserver", "kube-apiserver", "kube-controller-manager"]);
    await Promise.all([a.stop(), b.stop()]);
    for (const p of groups) assert.deepEqual(groupMembers(p.pid), [], `${p.name} (group ${p.pid}) left processes`);
  });
});
