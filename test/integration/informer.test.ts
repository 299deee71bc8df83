// The watch-backed caches every part reads from, against a real kube-apiserver: synced means
// the first list is in; a list that fails (a CRD not installed yet) is retried until it works;
// changes arrive through the watch.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { join } from "node:path";
import { API_VERSION, GROUP, VERSION } from "../../api/index.ts";
import { loadKubeClient } from "../../kube/client.ts";
import { startCache } from "../../kube/informer.ts";
import type { KubernetesObject } from "../../kube/informer.ts";
import { createLogger } from "../../kube/log.ts";
import { startControlPlane } from "../env/control-plane.ts";
import type { ControlPlane } from "../env/control-plane.ts";
import { installCRDs } from "../env/register.ts";
import { tempDir, tools } from "../env/testing.ts";
import { waitFor } from "../env/wait.ts";
import { REPO } from "../support/repo.ts";

let cp: ControlPlane;
const dir = tempDir("informer");
before(async () => (cp = await startControlPlane({ dir: dir.path, binDir: tools.binDir, kubectl: tools.kubectl })));
after(async () => {
  await cp?.stop();
  dir.remove();
});

const log = createLogger({ name: "informer-test", level: "silent" });
const storage = (name: string): string =>
  JSON.stringify({ apiVersion: API_VERSION, kind: "StorageConnection", metadata: { name }, spec: { type: "nfs", nfs: { server: "nas", path: "/x" } } });
const ref = { path: `/apis/${GROUP}/${VERSION}/storageconnections` };

describe("startCache", () => {
  it("retries a list that fails (the CRD is not installed yet) and syncs once it works", async () => {
    const cache = startCache<KubernetesObject>(loadKubeClient(cp.kubeconfigPath), ref, log, { backoffMs: 50, maxBackoffMs: 200 });
    try {
      let synced = false;
      void cache.synced.then(() => (synced = true));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(synced, false, "nothing to sync while the resource does not exist");
      await installCRDs(cp, [join(REPO, "manifests/crds/storageconnections.yaml")]);
      await cp.kubectlOk(["apply", "-f", "-"], { input: storage("first") });
      await cache.synced;
      await waitFor(async () => cache.get("first") !== undefined, { what: "the cache to hold 'first'", timeoutMs: 30_000 });
    } finally {
      await cache.stop();
    }
  });

  it("holds the first list when synced resolves, then follows the watch", async () => {
    await cp.kubectlOk(["apply", "-f", "-"], { input: storage("second") });
    const cache = startCache<KubernetesObject>(loadKubeClient(cp.kubeconfigPath), ref, log);
    try {
      await cache.synced;
      assert.deepEqual(cache.list().map((o) => o.metadata?.name).sort(), ["first", "second"]);
      const seen: string[] = [];
      cache.onChange((o) => seen.push(o.metadata?.name ?? ""));
      await cp.kubectlOk(["apply", "-f", "-"], { input: storage("third") });
      await waitFor(async () => seen.includes("third") && cache.get("third") !== undefined, { what: "the watch to deliver 'third'", timeoutMs: 30_000 });
    } finally {
      await cache.stop();
    }
  });
});
