import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { apiserverArgs, controllerManagerArgs, etcdArgs } from "./control-plane-args.ts";
import { pkiFiles } from "./pki.ts";
import type { PkiFile } from "./pki.ts";

const files = Object.fromEntries(pkiFiles.map((f) => [f, `/pki/${f}`])) as Record<PkiFile, string>;

describe("control plane command lines", () => {
  it("etcd listens on loopback only, without fsync", () => {
    const args = etcdArgs({ dataDir: "/d", clientPort: 1, peerPort: 2 });
    assert.ok(args.includes("--listen-client-urls=http://127.0.0.1:1"));
    assert.ok(args.includes("--listen-peer-urls=http://127.0.0.1:2"));
    assert.ok(args.includes("--unsafe-no-fsync=true"));
  });
  const cases = [
    { name: "without KCM the ServiceAccount admission plugin is off", kcm: false, disabled: true },
    { name: "with KCM the ServiceAccount admission plugin stays on", kcm: true, disabled: false },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const args = apiserverArgs({ etcdPort: 1, securePort: 2, files, controllerManager: tc.kcm });
      assert.equal(args.includes("--disable-admission-plugins=ServiceAccount"), tc.disabled);
      assert.ok(args.includes("--bind-address=127.0.0.1"));
      assert.ok(args.includes("--requestheader-allowed-names=front-proxy-client"));
      assert.ok(args.includes(`--proxy-client-cert-file=${files.frontProxyClientCert}`));
      assert.ok(args.includes(`--requestheader-client-ca-file=${files.frontProxyCaCert}`));
      assert.ok(args.includes(`--client-ca-file=${files.clientCaCert}`));
      assert.ok(!args.some((a) => a.startsWith("--enable-aggregator-routing")), "ExternalName needs default routing");
    });
  }
  it("KCM signs tokens with the apiserver's SA key and publishes the serving CA", () => {
    const args = controllerManagerArgs({ kubeconfig: "/k", files });
    assert.ok(args.includes(`--service-account-private-key-file=${files.saKey}`));
    assert.ok(args.includes(`--root-ca-file=${files.servingCaCert}`));
    assert.ok(args.includes("--controllers=*"));
  });
});
