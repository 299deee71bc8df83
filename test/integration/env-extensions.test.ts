// Our extension points work against a real kube-apiserver: the repository's CRDs install,
// the repository's webhook configurations (rewritten to url + caBundle) reach a local HTTPS
// server, and an APIService reached through an ExternalName Service becomes Available and
// proxies with the front-proxy identity.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:https";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { startControlPlane } from "../env/control-plane.ts";
import type { ControlPlane } from "../env/control-plane.ts";
import { installCRDs, issueLocalServingCert, registerAPIService, registerWebhooks } from "../env/register.ts";
import { tempDir, tools } from "../env/testing.ts";
import { waitFor, withLogTails } from "../env/wait.ts";
import { yamlIn } from "../support/repo.ts";


interface Seen {
  readonly method: string;
  readonly url: string;
  readonly user: string | undefined;
  readonly peerCN: string | undefined;
  readonly peerVerified: boolean;
}

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

async function startHttps(tls: { certPem: string; keyPem: string; clientCaPem?: string }, handle: Handler) {
  const seen: Seen[] = [];
  const server: Server = createServer(
    { cert: tls.certPem, key: tls.keyPem, ca: tls.clientCaPem, requestCert: Boolean(tls.clientCaPem), rejectUnauthorized: false },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        user: req.headers["x-remote-user"] as string | undefined,
        peerCN: peer?.subject?.CN as string | undefined,
        peerVerified: socket.authorized,
      });
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => handle(req, Buffer.concat(chunks).toString("utf8"), res));
    },
  );
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, port: (server.address() as AddressInfo).port, seen };
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};

const DENIAL = "storage says no (test webhook)";

const admissionHandler: Handler = (req, body, res) => {
  const review = JSON.parse(body || "{}") as { request?: { uid?: string } };
  const uid = review.request?.uid ?? "";
  const deny = (req.url ?? "").startsWith("/validate");
  const response = deny ? { uid, allowed: false, status: { code: 422, reason: "Invalid", message: DENIAL } } : { uid, allowed: true };
  json(res, 200, { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response });
};

const GROUP = "snapshots.backup.podwarden.io";
const discoveryHandler: Handler = (req, _body, res) => {
  const path = (req.url ?? "").split("?")[0];
  if (path === `/apis/${GROUP}/v1alpha1`) {
    json(res, 200, {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: `${GROUP}/v1alpha1`,
      resources: [{ name: "snapshots", singularName: "snapshot", namespaced: true, kind: "Snapshot", verbs: ["get", "list"], shortNames: ["snap"] }],
    });
    return;
  }
  json(res, 404, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404, message: "not found" });
};

describe("registering extensions", () => {
  const dir = tempDir("ext");
  let cp: ControlPlane;
  const servers: Server[] = [];

  before(async () => {
    cp = await startControlPlane({ dir: dir.path, binDir: tools.binDir, kubectl: tools.kubectl, timeoutMs: 60_000 });
  });
  after(async () => {
    for (const s of servers) s.close();
    await cp?.stop();
    dir.remove();
  });

  it("installs the repository's CRDs and kubectl lists them", async () => {
    await withLogTails([cp], async () => {
      const names = await installCRDs(cp, yamlIn("manifests/crds"));
      assert.ok(names.includes("backuppolicies.backup.podwarden.io"), names.join(","));
      for (const name of names) {
        const plural = name.split(".")[0] ?? "";
        const res = await cp.kubectl(["get", plural, "-A"]);
        assert.equal(res.code, 0, `kubectl get ${plural}: ${res.stderr}`);
      }
    });
  });

  it("calls a webhook registered with url + caBundle, and kubectl shows its denial", async () => {
    await withLogTails([cp], async () => {
      const tls = await issueLocalServingCert();
      const hook = await startHttps(tls, admissionHandler);
      servers.push(hook.server);
      const registered = await registerWebhooks(cp, {
        url: `https://127.0.0.1:${hook.port}`,
        caPem: tls.caPem,
        manifestPaths: yamlIn("manifests/webhook"),
      });
      assert.equal(registered.length, 2);
      const obj = {
        apiVersion: "backup.podwarden.io/v1alpha1",
        kind: "StorageConnection",
        metadata: { name: "nas" },
        spec: { type: "nfs", nfs: { server: "nas.example", path: "/exports/backups" } },
      };
      // The apiserver's webhook informer may lag the configuration by a moment.
      const denied = await waitFor(
        async () => {
          const res = await cp.kubectl(["apply", "-f", "-"], { input: JSON.stringify(obj) });
          return res.code !== 0 && res.stderr.includes("denied the request") ? res.stderr : undefined;
        },
        { what: "the validating webhook denies a StorageConnection", timeoutMs: 20_000, intervalMs: 250 },
      );
      assert.match(denied, new RegExp(`admission webhook "validate.backup.podwarden.io" denied the request: ${DENIAL.replace(/[()]/g, "\\$&")}`));
      assert.ok(hook.seen.some((s) => s.method === "POST" && s.url.startsWith("/validate?timeout=5s")), JSON.stringify(hook.seen));
    });
  });

  it("makes an aggregated APIService behind an ExternalName Service Available", async () => {
    await withLogTails([cp], async () => {
      const namespace = "podwarden-system";
      const serviceName = "podwarden-snapshots";
      const tls = await issueLocalServingCert({ serviceName, namespace });
      const api = await startHttps({ ...tls, clientCaPem: cp.frontProxy.caPem }, discoveryHandler);
      servers.push(api.server);
      await registerAPIService(cp, { group: GROUP, version: "v1alpha1", port: api.port, caPem: tls.caPem, serviceName, namespace, timeoutSeconds: 30 });
      const raw = JSON.parse(await cp.kubectlOk(["get", "--raw", `/apis/${GROUP}/v1alpha1`])) as { resources: { name: string }[] };
      assert.deepEqual(raw.resources.map((r) => r.name), ["snapshots"]);
      const proxied = api.seen.filter((s) => s.user === "admin");
      assert.ok(proxied.length > 0, `a request proxied for user admin; saw ${JSON.stringify(api.seen)}`);
      assert.ok(proxied.every((s) => s.peerCN === "front-proxy-client" && s.peerVerified), "the aggregator presents the front-proxy client cert");
      const resources = await cp.kubectlOk(["api-resources", `--api-group=${GROUP}`, "-o", "name"]);
      assert.match(resources, /^snapshots\.snapshots\.backup\.podwarden\.io$/m);
    });
  });
});
