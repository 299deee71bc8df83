import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { request, createServer } from "node:https";
import type { Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { RequestListener } from "node:http";
import { generateCA, issueCertificate } from "../certs/certificates.ts";
import type { CertificateAndKey } from "../certs/certificates.ts";
import { createApp } from "./app.ts";
import { parseAuthConfigMap } from "./auth-config.ts";
import { createAuthenticator } from "./authn.ts";
import { createAuthorizer } from "./authz.ts";
import { asStatusError } from "./errors.ts";
import { createSnapshotIndex } from "./index.ts";
import { authorizeRequest } from "./request-auth.ts";
import { sendJSON, sendStatus } from "./respond.ts";
import { hexId, manualClock, MemoryRuns, MemorySources, resticSnap, RuleAccessReviewer, silentLog, TableTokenReviewer } from "./test-fixtures.ts";

const G = "snapshots.backup.podwarden.io";
const NS = `/apis/${G}/v1alpha1/namespaces/shop/snapshots`;

interface Pki {
  serving: CertificateAndKey;
  servingCa: CertificateAndKey;
  frontProxyCa: CertificateAndKey;
  clientCa: CertificateAndKey;
  frontProxy: CertificateAndKey;
  wrongName: CertificateAndKey;
  expired: CertificateAndKey;
  serverUsage: CertificateAndKey;
  bob: CertificateAndKey;
}

let pki: Pki;
let server: Server;
let echo: Server;
let port = 0;
let echoPort = 0;
const clock = manualClock(Date.now());
const tokens = new TableTokenReviewer();
const access = new RuleAccessReviewer();

async function makePki(): Promise<Pki> {
  const servingCa = await generateCA("serving-ca");
  const frontProxyCa = await generateCA("front-proxy-ca");
  const clientCa = await generateCA("client-ca");
  const serving = await issueCertificate({ ca: servingCa, commonName: "snapshots-api", ipAddresses: ["127.0.0.1"], dnsNames: ["localhost"], usage: "server" });
  const frontProxy = await issueCertificate({ ca: frontProxyCa, commonName: "front-proxy-client", usage: "client" });
  const wrongName = await issueCertificate({ ca: frontProxyCa, commonName: "somebody-else", usage: "client" });
  const expired = await issueCertificate({ ca: frontProxyCa, commonName: "front-proxy-client", usage: "client", days: 1, now: new Date(Date.now() - 5 * 86_400_000) });
  const serverUsage = await issueCertificate({ ca: frontProxyCa, commonName: "front-proxy-client", usage: "server" });
  const bob = await issueCertificate({ ca: clientCa, commonName: "bob", organizations: ["team-b", "ops, west"], usage: "client" });
  return { serving, servingCa, frontProxyCa, clientCa, frontProxy, wrongName, expired, serverUsage, bob };
}

function authConfig() {
  const parsed = parseAuthConfigMap({
    "client-ca-file": pki.clientCa.certPem,
    "requestheader-client-ca-file": pki.frontProxyCa.certPem,
    "requestheader-allowed-names": '["front-proxy-client"]',
    "requestheader-username-headers": '["X-Remote-User"]',
    "requestheader-group-headers": '["X-Remote-Group"]',
    "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
    "requestheader-uid-headers": "[]",
  });
  assert.deepEqual(parsed.errors, []);
  return { current: () => parsed.config };
}

async function listen(app: RequestListener): Promise<[Server, number]> {
  const s = createServer({ key: pki.serving.keyPem, cert: pki.serving.certPem, requestCert: true, rejectUnauthorized: false }, app);
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return [s, (s.address() as AddressInfo).port];
}

before(async () => {
  pki = await makePki();
  tokens.users.set("carol-token", { username: "carol", groups: ["team-c"] });
  const sources = new MemorySources();
  sources.set({ namespace: "shop", name: "web" }, [resticSnap({ id: hexId("a1"), run: "web-1", pvc: "data" })]);
  const index = createSnapshotIndex({ sources, runs: new MemoryRuns(), clock, log: silentLog });
  await index.refreshAll();
  const authenticator = createAuthenticator({ config: authConfig(), tokens, clock });
  const authorizer = createAuthorizer({ reviewer: access, clock });
  [server, port] = await listen(createApp({ index, authenticator, authorizer, log: silentLog, clock }));
  // What a handler sees of a request once it is authorized: its headers (stripped) and its identity.
  const echoApp: RequestListener = (req, res) =>
    void authorizeRequest({ authenticator, authorizer, log: silentLog }, req).then(
      (auth) => sendJSON(res, 200, { headers: req.headers, raw: req.rawHeaders, auth }),
      (err: unknown) => sendStatus(res, asStatusError(err)),
    );
  [echo, echoPort] = await listen(echoApp);
});
after(() => {
  server.closeAllConnections();
  server.close();
  echo.closeAllConnections();
  echo.close();
});

interface Reply {
  status: number;
  headers: Record<string, unknown>;
  body: Record<string, unknown>;
}

function call(path: string, opts: { cert?: CertificateAndKey; headers?: Record<string, string | string[]>; port?: number } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: opts.port ?? port,
        path,
        ca: pki.servingCa.certPem,
        ...(opts.cert ? { cert: opts.cert.certPem, key: opts.cert.keyPem } : {}),
        headers: opts.headers ?? {},
        agent: false,
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text.startsWith("{") ? (JSON.parse(text) as Record<string, unknown>) : { text } }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

const remote = (user: string, groups: string[] = [], extra: Record<string, string> = {}): Record<string, string | string[]> => ({
  "X-Remote-User": user,
  ...(groups.length ? { "X-Remote-Group": groups } : {}),
  ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [`X-Remote-Extra-${k}`, v])),
});

test("front-proxy certificate: the X-Remote-* identity is used and system:authenticated added", async () => {
  access.rule = () => true;
  access.specs.length = 0;
  const r = await call(NS, { cert: pki.frontProxy, headers: remote("alice", ["team-a", "team-b"], { "Acme.com%2Fscope": "read" }) });
  assert.equal(r.status, 200);
  assert.deepEqual(access.specs.at(-1), {
    user: "alice",
    groups: ["team-a", "team-b", "system:authenticated"],
    extra: { "acme.com/scope": ["read"] },
    resourceAttributes: { namespace: "shop", verb: "list", group: G, version: "v1alpha1", resource: "snapshots" },
  });
});

test("X-Remote-* headers are ignored without a trusted front-proxy certificate", async (t) => {
  access.rule = (spec) => spec.user !== "nobody";
  const masters = remote("admin", ["system:masters"]);
  const cases: { name: string; cert?: CertificateAndKey; headers: Record<string, string | string[]>; status: number; user?: string }[] = [
    { name: "client-CA certificate: the CN, not the header", cert: pki.bob, headers: masters, status: 200, user: "bob" },
    { name: "bearer token: the token's user, not the header", headers: { ...masters, Authorization: "Bearer carol-token" }, status: 200, user: "carol" },
    { name: "no credentials at all", headers: masters, status: 401 },
    { name: "front-proxy CA but CN not in allowed-names", cert: pki.wrongName, headers: masters, status: 401 },
    { name: "expired front-proxy certificate", cert: pki.expired, headers: masters, status: 401 },
    { name: "front-proxy CA, serverAuth usage only", cert: pki.serverUsage, headers: masters, status: 401 },
    { name: "unknown bearer token", headers: { ...masters, Authorization: "Bearer wrong" }, status: 401 },
  ];
  for (const c of cases) {
    await t.test(c.name, async () => {
      access.specs.length = 0;
      const r = await call(NS, { ...(c.cert ? { cert: c.cert } : {}), headers: c.headers });
      assert.equal(r.status, c.status);
      if (c.status === 401) {
        assert.deepEqual(r.body, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 });
      } else {
        assert.equal(access.specs.at(-1)?.user, c.user);
        assert.ok(!access.specs.at(-1)?.groups.includes("system:masters"));
      }
    });
  }
  await t.test("client-CA groups come from O", async () => {
    await call(`${NS}/web-1`, { cert: pki.bob });
    assert.deepEqual(access.specs.at(-1)?.groups, ["team-b", "ops, west", "system:authenticated"]);
  });
});

test("handlers never see X-Remote-* headers", async () => {
  const trusted = await call("/x", { port: echoPort, cert: pki.frontProxy, headers: { ...remote("alice", ["g"]), "X-Remote-Extra-k": "v" } });
  const untrusted = await call("/x", { port: echoPort, cert: pki.bob, headers: { ...remote("alice", ["g"]), "X-Remote-Extra-k": "v" } });
  for (const r of [trusted, untrusted]) {
    assert.equal(r.status, 200);
    const headers = Object.keys(r.body["headers"] as Record<string, unknown>);
    assert.ok(!headers.some((h) => h.startsWith("x-remote-")), headers.join(","));
    assert.ok(!(r.body["raw"] as string[]).some((h) => h.toLowerCase().startsWith("x-remote-")));
  }
  assert.equal(((trusted.body["auth"] as Record<string, Record<string, unknown>>)["user"] ?? {})["username"], "alice");
  assert.equal(((untrusted.body["auth"] as Record<string, Record<string, unknown>>)["user"] ?? {})["username"], "bob");
});

test("403 Forbidden shapes, with the SubjectAccessReview reason appended", async (t) => {
  access.rule = () => false;
  access.denyReason = "no RBAC policy matched";
  const cases: { path: string; message: string; details: Record<string, unknown> }[] = [
    {
      path: `${NS}/web-1`,
      message: `snapshots.${G} "web-1" is forbidden: User "nobody" cannot get resource "snapshots" in API group "${G}" in the namespace "shop": no RBAC policy matched`,
      details: { name: "web-1", group: G, kind: "snapshots" },
    },
    {
      path: `/apis/${G}/v1alpha1/snapshots`,
      message: `snapshots.${G} is forbidden: User "nobody" cannot list resource "snapshots" in API group "${G}" at the cluster scope: no RBAC policy matched`,
      details: { group: G, kind: "snapshots" },
    },
    { path: "/apis", message: 'forbidden: User "nobody" cannot get path "/apis": no RBAC policy matched', details: {} },
  ];
  for (const c of cases) {
    await t.test(c.path, async () => {
      const r = await call(c.path, { cert: pki.frontProxy, headers: remote("nobody") });
      assert.equal(r.status, 403);
      assert.deepEqual(r.body, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: c.message, reason: "Forbidden", details: c.details, code: 403 });
    });
  }
  access.denyReason = "";
});

test("system:masters skips the SubjectAccessReview; decisions and token reviews are cached ~10 s", async () => {
  access.rule = () => true;
  access.specs.length = 0;
  assert.equal((await call(NS, { cert: pki.frontProxy, headers: remote("root", ["system:masters"]) })).status, 200);
  assert.equal(access.specs.length, 0);
  tokens.users.set("dave-token", { username: "dave", groups: ["team-d"] });
  const before = tokens.calls;
  for (let i = 0; i < 3; i++) assert.equal((await call(NS, { headers: { Authorization: "Bearer dave-token" } })).status, 200);
  assert.equal(access.specs.length, 1);
  assert.equal(tokens.calls - before, 1);
  clock.advance(10_001);
  assert.equal((await call(NS, { headers: { Authorization: "Bearer dave-token" } })).status, 200);
  assert.equal(access.specs.length, 2);
  assert.equal(tokens.calls - before, 2);
  assert.deepEqual(access.specs.at(-1)?.groups, ["team-d", "system:authenticated"]);
});

test("non-resource requests are authorized with nonResourceAttributes; health paths are exempt", async () => {
  access.rule = () => true;
  access.specs.length = 0;
  await call("/openapi/v3", { cert: pki.frontProxy, headers: remote("system:aggregator") });
  assert.deepEqual(access.specs.at(-1)?.nonResourceAttributes, { path: "/openapi/v3", verb: "get" });
  const health = await call("/readyz");
  assert.equal(health.status, 200);
  assert.equal(access.specs.length, 1);
});
