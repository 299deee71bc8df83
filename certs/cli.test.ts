import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCliArgs, writeServingFiles } from "./cli.ts";

describe("parseCliArgs", () => {
  const cases = [
    {
      name: "all flags",
      argv: ["--out", "d", "--cn", "web", "--dns", "a", "--dns", "b.ns.svc", "--ip", "127.0.0.1", "--days", "9"],
      want: { dir: "d", commonName: "web", dnsNames: ["a", "b.ns.svc"], ipAddresses: ["127.0.0.1"], days: 9 },
    },
    {
      name: "defaults",
      argv: ["--out", "d", "--ip", "127.0.0.1"],
      want: { dir: "d", commonName: "podwarden-backup", dnsNames: [], ipAddresses: ["127.0.0.1"], days: undefined },
    },
  ];
  for (const tc of cases) it(tc.name, () => assert.deepEqual(parseCliArgs(tc.argv), tc.want));

  const bad = [
    { name: "missing --out", argv: ["--dns", "a"], error: /--out is required/ },
    { name: "bad --days", argv: ["--out", "d", "--days", "0"], error: /--days 0 is invalid/ },
    { name: "unknown flag", argv: ["--out", "d", "--nope"], error: /Unknown option/ },
  ];
  for (const tc of bad) it(`rejects ${tc.name}`, () => assert.throws(() => parseCliArgs(tc.argv), tc.error));
});

describe("writeServingFiles", () => {
  it("writes a CA and a serving cert, then reuses the CA", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-certs-"));
    try {
      const opts = { dir, commonName: "web", dnsNames: ["web.ns.svc"], ipAddresses: ["127.0.0.1"] };
      const first = await writeServingFiles(opts);
      assert.equal(first.reusedCA, false);
      assert.equal(statSync(first.tlsKey).mode & 0o777, 0o600);
      const ca = new X509Certificate(readFileSync(first.caCert));
      const leaf = new X509Certificate(readFileSync(first.tlsCert));
      assert.equal(leaf.checkIssued(ca), true);
      assert.equal(leaf.checkHost("web.ns.svc"), "web.ns.svc");
      assert.equal(Buffer.from(first.caBundle, "base64").toString(), readFileSync(first.caCert, "utf8"));
      const second = await writeServingFiles(opts);
      assert.equal(second.reusedCA, true);
      assert.equal(new X509Certificate(readFileSync(second.tlsCert)).checkIssued(ca), true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("rejects a certificate without SANs", async () => {
    await assert.rejects(writeServingFiles({ dir: "unused", commonName: "x", dnsNames: [], ipAddresses: [] }), /no subject alternative name/);
  });
});
