import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate, createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { request } from "node:https";
import { fromCaBundle, generateCA, generateKeyPair, issueCertificate, toCaBundle } from "./certificates.ts";
import type { IssueOptions } from "./certificates.ts";

const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

const ca = await generateCA("test-ca");
const otherCa = await generateCA("other-ca");

describe("generateCA", () => {
  it("is a self-signed CA whose key matches", () => {
    const cert = new X509Certificate(ca.certPem);
    assert.equal(cert.ca, true);
    assert.match(cert.subject, /CN=test-ca/);
    assert.equal(cert.checkIssued(cert), true);
    assert.equal(cert.verify(cert.publicKey), true);
    assert.equal(cert.checkPrivateKey(createPrivateKey(ca.keyPem)), true);
  });
  it("rejects an empty name", async () => {
    await assert.rejects(generateCA(""), /commonName is empty/);
  });
  it("honours the injected clock and validity", async () => {
    const now = new Date("2030-01-01T00:00:00Z");
    const cert = new X509Certificate((await generateCA("dated", { now, days: 10 })).certPem);
    assert.equal(cert.validToDate.toISOString(), "2030-01-11T00:00:00.000Z");
    assert.ok(cert.validFromDate < now);
  });
});

describe("issueCertificate", () => {
  const cases: { name: string; opts: Omit<IssueOptions, "ca">; check: (c: X509Certificate) => void }[] = [
    {
      name: "server cert carries DNS and IP SANs and serverAuth",
      opts: { commonName: "api", dnsNames: ["localhost", "svc.ns.svc"], ipAddresses: ["127.0.0.1", "::1"], usage: "server" },
      check: (c) => {
        assert.deepEqual(c.keyUsage, [SERVER_AUTH]);
        assert.equal(c.checkHost("localhost"), "localhost");
        assert.equal(c.checkHost("svc.ns.svc"), "svc.ns.svc");
        assert.equal(c.checkIP("127.0.0.1"), "127.0.0.1");
        assert.equal(c.checkIP("::1"), "::1");
        assert.equal(c.checkHost("other.example"), undefined);
        assert.equal(c.ca, false);
      },
    },
    {
      name: "client cert carries CN, organizations and clientAuth",
      opts: { commonName: "admin", organizations: ["system:masters", "team-a"], usage: "client" },
      check: (c) => {
        assert.deepEqual(c.keyUsage, [CLIENT_AUTH]);
        assert.match(c.subject, /CN=admin/);
        assert.match(c.subject, /O=system:masters/);
        assert.match(c.subject, /O=team-a/);
        assert.equal(c.subjectAltName, undefined);
      },
    },
  ];
  for (const tc of cases) {
    it(tc.name, async () => {
      const leaf = await issueCertificate({ ca, ...tc.opts });
      const cert = new X509Certificate(leaf.certPem);
      const caCert = new X509Certificate(ca.certPem);
      assert.equal(cert.checkIssued(caCert), true, "issued by the CA");
      assert.equal(cert.verify(caCert.publicKey), true, "signature verifies with the CA key");
      assert.equal(cert.verify(new X509Certificate(otherCa.certPem).publicKey), false, "not by another CA");
      assert.equal(cert.checkPrivateKey(createPrivateKey(leaf.keyPem)), true, "key matches");
      tc.check(cert);
    });
  }

  const invalid: { name: string; opts: Partial<IssueOptions>; error: RegExp }[] = [
    { name: "empty CN", opts: { commonName: "" }, error: /commonName is empty/ },
    { name: "bad IP", opts: { ipAddresses: ["localhost"] }, error: /ipAddresses entry localhost is not an IP/ },
    { name: "bad usage", opts: { usage: "both" as never }, error: /usage both is not supported; expected one of server, client/ },
  ];
  for (const tc of invalid) {
    it(`rejects ${tc.name}`, async () => {
      await assert.rejects(issueCertificate({ ca, commonName: "x", usage: "server", ...tc.opts }), tc.error);
    });
  }
});

describe("TLS with issued certificates", () => {
  it("a client trusting the CA completes mutual TLS on 127.0.0.1", async () => {
    const server = await issueCertificate({ ca, commonName: "srv", ipAddresses: ["127.0.0.1"], usage: "server" });
    const client = await issueCertificate({ ca, commonName: "alice", organizations: ["devs"], usage: "client" });
    const srv = createServer(
      { cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true },
      (req, res) => res.end((req.socket as TLSSocket).getPeerCertificate().subject.CN),
    );
    srv.listen(0, "127.0.0.1");
    await once(srv, "listening");
    const { port } = srv.address() as AddressInfo;
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, ca: ca.certPem, cert: client.certPem, key: client.keyPem }, (res) => {
          let text = "";
          res.on("data", (d: Buffer) => (text += d.toString()));
          res.on("end", () => resolve(text));
        });
        req.on("error", reject);
        req.end();
      });
      assert.equal(body, "alice");
    } finally {
      srv.close();
    }
  });
});

describe("generateKeyPair", () => {
  it("signs with the private key and verifies with the public key", async () => {
    const pair = await generateKeyPair();
    const sig = sign("sha256", Buffer.from("data"), createPrivateKey(pair.privateKeyPem));
    assert.equal(verify("sha256", Buffer.from("data"), createPublicKey(pair.publicKeyPem), sig), true);
    assert.match(pair.publicKeyPem, /BEGIN PUBLIC KEY/);
    assert.match(pair.privateKeyPem, /BEGIN PRIVATE KEY/);
  });
});

describe("caBundle helpers", () => {
  const cases = [
    { name: "one certificate", pems: [ca.certPem] },
    { name: "two certificates", pems: [ca.certPem, otherCa.certPem] },
  ];
  for (const tc of cases) {
    it(`round-trips ${tc.name}`, () => {
      const pem = fromCaBundle(toCaBundle(...tc.pems));
      assert.equal(pem.match(/BEGIN CERTIFICATE/g)?.length, tc.pems.length);
      assert.equal(new X509Certificate(pem).subject, new X509Certificate(tc.pems[0] ?? "").subject);
    });
  }
  it("rejects a bundle without a certificate", () => {
    assert.throws(() => fromCaBundle(Buffer.from("nope").toString("base64")), /no PEM certificate inside/);
  });
});
