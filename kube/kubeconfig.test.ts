import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { KubeconfigError, inClusterTarget, loadTarget, targetFromKubeconfig } from "./kubeconfig.ts";

const b64 = (s: string): string => Buffer.from(s).toString("base64");
function doc(user: Record<string, unknown>, cluster: Record<string, unknown> = { server: "https://127.0.0.1:6443", "certificate-authority-data": b64("CA") }): unknown {
  return {
    "current-context": "ctx",
    contexts: [{ name: "ctx", context: { cluster: "c", user: "u" } }],
    clusters: [{ name: "c", cluster }],
    users: [{ name: "u", user }],
  };
}

describe("targetFromKubeconfig", () => {
  const good: { name: string; doc: unknown; want: Record<string, unknown> }[] = [
    { name: "inline client certificate", doc: doc({ "client-certificate-data": b64("CERT"), "client-key-data": b64("KEY") }), want: { caPem: "CA", certPem: "CERT", keyPem: "KEY" } },
    { name: "bearer token", doc: doc({ token: "t0k" }), want: { caPem: "CA", token: "t0k" } },
    { name: "trailing slash and insecure", doc: doc({ token: "t" }, { server: "https://h:1/", "insecure-skip-tls-verify": true }), want: { server: "https://h:1", token: "t", insecureSkipTLSVerify: true } },
  ];
  for (const c of good) {
    it(`reads ${c.name}`, () => {
      const t = targetFromKubeconfig(c.doc, "/cfg/kubeconfig");
      for (const [k, v] of Object.entries(c.want)) assert.deepEqual(t[k as keyof typeof t], v, k);
      assert.equal(t.source, "/cfg/kubeconfig (context ctx)");
    });
  }

  it("reads certificate files relative to the kubeconfig", () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-kubeconfig-"));
    try {
      writeFileSync(join(dir, "ca.pem"), "CAFILE");
      writeFileSync(join(dir, "c.pem"), "CERTFILE");
      writeFileSync(join(dir, "k.pem"), "KEYFILE");
      const t = targetFromKubeconfig(doc({ "client-certificate": "c.pem", "client-key": "k.pem", tokenFile: "tok" }, { server: "https://h:1", "certificate-authority": "ca.pem" }), join(dir, "config"));
      assert.deepEqual([t.caPem, t.certPem, t.keyPem, t.tokenFile], ["CAFILE", "CERTFILE", "KEYFILE", join(dir, "tok")]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const bad: { name: string; doc: unknown; message: RegExp }[] = [
    { name: "no current-context", doc: {}, message: /current-context is not set/ },
    { name: "a context that is not listed", doc: { ...(doc({}) as object), "current-context": "other" }, message: /contexts has no entry named "other"/ },
    { name: "a plain http server", doc: doc({}, { server: "http://h:1" }), message: /server must be an https:\/\/ URL/ },
    { name: "an exec plugin", doc: doc({ exec: { command: "aws" } }), message: /exec plugin or auth provider; use a client certificate or a token/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}, naming the field`, () => {
      assert.throws(() => targetFromKubeconfig(c.doc, "/cfg/kubeconfig"), (e: unknown) => e instanceof KubeconfigError && c.message.test(e.message));
    });
  }
});

describe("inClusterTarget", () => {
  it("needs KUBERNETES_SERVICE_HOST and PORT", () => {
    assert.throws(() => inClusterTarget({}), /KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset; set KUBECONFIG/);
  });
  it("brackets an IPv6 host and reads the mounted CA; the token file is read by the client", () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-sa-"));
    try {
      writeFileSync(join(dir, "ca.crt"), "SACA");
      const t = inClusterTarget({ host: "fd00::1", port: "443" }, dir);
      assert.deepEqual({ server: t.server, caPem: t.caPem, tokenFile: t.tokenFile }, { server: "https://[fd00::1]:443", caPem: "SACA", tokenFile: `${dir}/token` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Writes `text` as a kubeconfig file in a new directory and passes its path to `use`. */
function withConfigFile(text: string, use: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "pw-kubeconfig-"));
  try {
    writeFileSync(join(dir, "config"), text);
    use(join(dir, "config"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("loadTarget reads a kubeconfig file", () => {
  const config = doc({ token: "t0k" });
  const cases = [
    { name: "in JSON", text: JSON.stringify(config) },
    { name: "in JSON with leading whitespace", text: `\n  ${JSON.stringify(config, null, 2)}` },
    { name: "in YAML", text: stringify(config) },
  ];
  for (const c of cases) {
    it(c.name, () =>
      withConfigFile(c.text, (path) => {
        const t = loadTarget(path, {});
        assert.deepEqual([t.server, t.caPem, t.token], ["https://127.0.0.1:6443", "CA", "t0k"]);
      }),
    );
  }
  it("rejects a file that is neither, naming it", () =>
    withConfigFile('{"current-context": ', (path) => {
      assert.throws(() => loadTarget(path, {}), (e: unknown) => e instanceof KubeconfigError && e.message.startsWith(`${path}: cannot read the kubeconfig`));
    }));
});
