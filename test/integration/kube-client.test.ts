// Our Kubernetes client (kube/rest.ts, kube/kubeconfig.ts) against a real kube-apiserver: the
// credentials our servers use (a certificate kubeconfig; a service account's token file and CA,
// re-read as the token rotates), Status errors, and watch streams.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadKubeClient } from "../../kube/client.ts";
import { inClusterTarget } from "../../kube/kubeconfig.ts";
import { KubeApiError, createKubeClient } from "../../kube/rest.ts";
import type { WatchEvent } from "../../kube/rest.ts";
import { startControlPlane } from "../env/control-plane.ts";
import type { ControlPlane } from "../env/control-plane.ts";
import { tempDir, tools } from "../env/testing.ts";
import { waitFor } from "../env/wait.ts";

let cp: ControlPlane;
const dir = tempDir("kube-client");
before(async () => (cp = await startControlPlane({ dir: dir.path, binDir: tools.binDir, kubectl: tools.kubectl })));
after(async () => {
  await cp?.stop();
  dir.remove();
});

interface Review {
  status?: { userInfo?: { username?: string } };
}
const whoAmI = async (client: ReturnType<typeof createKubeClient>): Promise<string | undefined> =>
  (await client.request<Review>("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", { body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" } })).status?.userInfo?.username;

describe("kube client", () => {
  it("authenticates with a kubeconfig's client certificate; a 404 is a KubeApiError with the Status", async () => {
    const client = loadKubeClient(await cp.userKubeconfig({ name: "jane", groups: ["system:masters"] }));
    try {
      assert.equal(await whoAmI(client), "jane");
      await assert.rejects(client.request("GET", "/api/v1/namespaces/default/secrets/missing"), (e: unknown) => {
        assert.ok(e instanceof KubeApiError);
        assert.equal(e.code, 404);
        assert.equal((e.body as { reason?: string }).reason, "NotFound");
        assert.match(e.message, /GET \/api\/v1\/namespaces\/default\/secrets\/missing: 404 secrets "missing" not found/);
        return true;
      });
    } finally {
      client.close();
    }
  });

  it("in-cluster: a service account's token file and CA; a rotated token is read again after a minute", async () => {
    for (const sa of ["first", "second"]) await cp.kubectlOk(["create", "serviceaccount", sa, "-n", "default"]);
    const token = async (sa: string): Promise<string> => (await cp.kubectlOk(["create", "token", sa, "-n", "default"])).trim();
    const sadir = join(dir.path, "serviceaccount");
    mkdirSync(sadir, { recursive: true });
    writeFileSync(join(sadir, "ca.crt"), cp.caPem);
    writeFileSync(join(sadir, "token"), await token("first"));
    const url = new URL(cp.server);
    let now = 1_000_000;
    const client = createKubeClient(inClusterTarget({ host: url.hostname, port: url.port }, sadir), { now: () => now });
    try {
      assert.equal(await whoAmI(client), "system:serviceaccount:default:first");
      writeFileSync(join(sadir, "token"), await token("second"));
      assert.equal(await whoAmI(client), "system:serviceaccount:default:first", "still the token read less than a minute ago");
      now += 61_000;
      assert.equal(await whoAmI(client), "system:serviceaccount:default:second");
      await assert.rejects(client.request("GET", "/api/v1/secrets"), (e: unknown) => e instanceof KubeApiError && e.code === 403);
    } finally {
      client.close();
    }
  });

  it("watches from a list's resourceVersion; aborting ends the watch", async () => {
    const client = loadKubeClient(cp.kubeconfigPath);
    const abort = new AbortController();
    try {
      const list = await client.request<{ metadata: { resourceVersion: string } }>("GET", "/api/v1/namespaces");
      const seen: WatchEvent<{ metadata?: { name?: string } }>[] = [];
      const watching = client.watch<{ metadata?: { name?: string } }>("/api/v1/namespaces", { resourceVersion: list.metadata.resourceVersion }, (e) => seen.push(e), abort.signal);
      await cp.kubectlOk(["create", "namespace", "watched"]);
      await waitFor(async () => seen.some((e) => e.type === "ADDED" && e.object.metadata?.name === "watched"), { what: "the ADDED event of namespace watched", timeoutMs: 30_000 });
      abort.abort();
      await watching;
    } finally {
      client.close();
    }
  });
});
