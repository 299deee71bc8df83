import { before, test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { generateCA, issueCertificate } from "../certs/certificates.ts";
import type { CertificateAndKey } from "../certs/certificates.ts";
import { peerChain, verifyClientChain } from "./auth-x509.ts";

const DAY = 86_400_000;
let ca: CertificateAndKey;
let otherCa: CertificateAndKey;
let alice: CertificateAndKey;
let bob: CertificateAndKey;

before(async () => {
  ca = await generateCA("client-ca");
  otherCa = await generateCA("other-ca");
  alice = await issueCertificate({ ca, commonName: "alice", usage: "client", days: 2 });
  bob = await issueCertificate({ ca, commonName: "bob", usage: "client" });
});

const der = (c: CertificateAndKey): Buffer => new X509Certificate(c.certPem).raw;

test("a verified chain is remembered per chain array and roots, only while every certificate is valid", async (t) => {
  const roots = [new X509Certificate(ca.certPem)];
  const chain = [der(alice)];
  const now = Date.now();
  await t.test("valid", () => assert.equal(verifyClientChain(chain, roots, now).ok, true));
  await t.test("again, a minute later", () => assert.equal(verifyClientChain(chain, roots, now + 60_000).ok, true));
  await t.test("after the leaf expired", () => {
    const r = verifyClientChain(chain, roots, now + 3 * DAY);
    assert.equal(r.ok, false);
    assert.match(r.ok ? "" : r.reason, /has expired or is not yet valid/);
  });
  await t.test("before the leaf was valid", () => assert.equal(verifyClientChain(chain, roots, now - 2 * DAY).ok, false));
  await t.test("other roots are checked anew", () => {
    const r = verifyClientChain(chain, [new X509Certificate(otherCa.certPem)], now);
    assert.equal(r.ok, false);
    assert.match(r.ok ? "" : r.reason, /signed by unknown authority/);
  });
  await t.test("the same roots again", () => assert.equal(verifyClientChain(chain, roots, now).ok, true));
});

/** A TLS socket's peer-certificate API, counting the detailed reads. */
function fakeSocket(cert: CertificateAndKey | undefined) {
  const state = { cert, detailedReads: 0 };
  const socket = {
    getPeerX509Certificate: () => (state.cert === undefined ? undefined : new X509Certificate(state.cert.certPem)),
    getPeerCertificate: (detailed: boolean) => {
      if (detailed) state.detailedReads++;
      return state.cert === undefined ? {} : { raw: der(state.cert) };
    },
  };
  return { socket, state };
}

test("peerChain reads a connection's chain once, and again when the peer's leaf changed", () => {
  const { socket, state } = fakeSocket(alice);
  const first = peerChain(socket);
  assert.deepEqual(first, [der(alice)]);
  assert.equal(peerChain(socket), first, "the same array: verifications of it are remembered");
  assert.equal(state.detailedReads, 1);
  state.cert = bob;
  assert.deepEqual(peerChain(socket), [der(bob)]);
  assert.equal(state.detailedReads, 2);
});

test("peerChain without a client certificate or without TLS", async (t) => {
  await t.test("no certificate", () => assert.deepEqual(peerChain(fakeSocket(undefined).socket), []));
  await t.test("plain socket", () => assert.deepEqual(peerChain({}), []));
  await t.test("no socket", () => assert.deepEqual(peerChain(undefined), []));
});
