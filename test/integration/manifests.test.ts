// The install manifests (kubectl apply -k manifests) are accepted by a real kube-apiserver:
// every object validates against the real API schemas (server-side dry run), and the RBAC
// grants what the parts need.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { join } from "node:path";
import { startControlPlane } from "../env/control-plane.ts";
import type { ControlPlane } from "../env/control-plane.ts";
import { tempDir, tools } from "../env/testing.ts";
import { waitFor } from "../env/wait.ts";
import { REPO } from "../support/repo.ts";

let cp: ControlPlane;
const dir = tempDir("manifests");
before(async () => {
  cp = await startControlPlane({ dir: dir.path, binDir: tools.binDir, kubectl: tools.kubectl, controllerManager: true });
});
after(async () => {
  await cp?.stop();
  dir.remove();
});

describe("install manifests", () => {
  it("kustomize renders them and a server-side dry run accepts every object", async () => {
    await cp.kubectlOk(["apply", "-f", join(REPO, "manifests/deploy/namespace.yaml")]);
    await cp.kubectlOk(["apply", "--server-side", "-f", join(REPO, "manifests/crds")]);
    const res = await cp.kubectl(["apply", "--dry-run=server", "-k", join(REPO, "manifests")]);
    assert.equal(res.code, 0, res.stderr);
    for (const kind of ["deployment.apps/podwarden-webhook", "deployment.apps/podwarden-snapshots", "secret/podwarden-snapshot-keys", "apiservice.apiregistration.k8s.io/v1alpha1.snapshots.backup.podwarden.io", "validatingwebhookconfiguration.admissionregistration.k8s.io/podwarden-backup"]) {
      assert.match(res.stdout, new RegExp(`${kind.replace(/\./g, "\\.")} .*\\(server dry run\\)`));
    }
  });

  it("the RBAC lets each part do its job, and no more", async () => {
    await cp.kubectlOk(["apply", "-f", join(REPO, "manifests/rbac")]);
    const sa = (name: string): string => `system:serviceaccount:podwarden-system:${name}`;
    assert.equal(await allowed(sa("podwarden-webhook"), "watch", "backup.podwarden.io/storageconnections"), true);
    assert.equal(await allowed(sa("podwarden-webhook"), "get", "snapshots.backup.podwarden.io/snapshots", { namespace: "shop" }), true);
    assert.equal(await allowed(sa("podwarden-webhook"), "create", "backup.podwarden.io/backuppolicies", { namespace: "shop" }), false);
    assert.equal(await allowed(sa("podwarden-snapshots"), "get", "/secrets", { namespace: "shop" }), true);
    assert.equal(await allowed(sa("podwarden-snapshots"), "list", "/secrets", { namespace: "shop" }), false);
    assert.equal(await allowed(sa("podwarden-snapshots"), "patch", "backup.podwarden.io/backuppolicies/status", { namespace: "shop" }), true);
    assert.equal(await allowed(sa("podwarden-snapshots"), "update", "backup.podwarden.io/backuppolicies", { namespace: "shop" }), false);
    assert.equal(await allowed(sa("podwarden-snapshots"), "create", "authorization.k8s.io/subjectaccessreviews"), true);
    assert.equal(await allowed(sa("podwarden-snapshots"), "patch", "/secrets", { namespace: "podwarden-system", name: "podwarden-snapshot-keys" }), true);
    assert.equal(await allowed(sa("podwarden-snapshots"), "patch", "/secrets", { namespace: "podwarden-system", name: "podwarden-webhook-tls" }), false);
    assert.equal(await allowed(sa("podwarden-snapshots"), "patch", "/secrets", { namespace: "shop", name: "podwarden-snapshot-keys" }), false);
  });

  it("the built-in edit role may delete Snapshots, view may only read them", async () => {
    await cp.kubectlOk(["create", "namespace", "shop"]);
    await cp.kubectlOk(["create", "rolebinding", "alice-edit", "--clusterrole=edit", "--user=alice", "-n", "shop"]);
    await cp.kubectlOk(["create", "rolebinding", "bob-view", "--clusterrole=view", "--user=bob", "-n", "shop"]);
    // The aggregation controller fills view/edit from our labelled ClusterRoles a moment later.
    await waitFor(async () => allowed("alice", "delete", "snapshots.backup.podwarden.io/snapshots", { namespace: "shop" }), { what: "edit aggregating our rules", timeoutMs: 30_000 });
    assert.equal(await allowed("alice", "create", "backup.podwarden.io/backuppolicies", { namespace: "shop" }), true);
    assert.equal(await allowed("bob", "list", "snapshots.backup.podwarden.io/snapshots", { namespace: "shop" }), true);
    assert.equal(await allowed("bob", "delete", "snapshots.backup.podwarden.io/snapshots", { namespace: "shop" }), false);
    assert.equal(await allowed("bob", "list", "backup.podwarden.io/storageconnections"), true);
    assert.equal(await allowed("bob", "create", "backup.podwarden.io/storageconnections"), false);
  });
});

/** A SubjectAccessReview: `what` is "group/resource[/subresource]" ("" group for core). */
async function allowed(user: string, verb: string, what: string, scope: { readonly namespace?: string; readonly name?: string } = {}): Promise<boolean> {
  const { namespace, name } = scope;
  const [group, resource, subresource] = what.split("/");
  const sar = {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: { user, groups: ["system:authenticated"], resourceAttributes: { verb, group, resource, ...(subresource ? { subresource } : {}), ...(namespace ? { namespace } : {}), ...(name ? { name } : {}) } },
  };
  const out = await cp.kubectlOk(["create", "-f", "-", "-o", "jsonpath={.status.allowed}"], { input: JSON.stringify(sar) });
  return out.trim() === "true";
}
