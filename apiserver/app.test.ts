import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startHarness } from "./app-harness.ts";
import type { Harness } from "./app-harness.ts";
import { hexId, resticSnap } from "./test-fixtures.ts";

const G = "snapshots.backup.podwarden.io";
const BASE = `/apis/${G}/v1alpha1`;
const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
const AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";
type J = Record<string, unknown> & { items?: J[]; metadata?: J; rows?: J[] };

let h: Harness;
const web = { namespace: "shop", name: "web" };
const db = { namespace: "shop", name: "db" };
const other = { namespace: "ops", name: "etcd" };

before(async () => {
  h = await startHarness();
  h.sources.set(web, [
    resticSnap({ id: hexId("a1"), policy: "web", run: "web-1", pvc: "data", bytes: 2048, files: 4 }),
    resticSnap({ id: hexId("a2"), policy: "web", run: "web-1", pvc: "logs", bytes: 1024, files: 1 }),
    resticSnap({ id: hexId("b1"), policy: "web", run: "web-2", pvc: "data" }),
  ]);
  h.runs.set(web, "web-1", { phase: "Succeeded", volumes: [{ pvc: "data" }, { pvc: "logs" }] });
  h.runs.set(web, "web-2", { phase: "Failed", volumes: [{ pvc: "data" }, { pvc: "logs" }] });
  h.sources.set(db, [resticSnap({ id: hexId("c1"), policy: "db", pvc: "pg" })]);
  h.sources.set(other, [resticSnap({ id: hexId("e1"), policy: "etcd", run: "etcd-1", pvc: "e" })]);
  await h.index.refreshAll();
});
after(() => h.close());

const json = async (r: Response): Promise<J> => (await r.json()) as J;
const names = (list: J): unknown[] => (list.items ?? []).map((i) => (i.metadata as J).name);

test("health paths need no authentication", async () => {
  for (const p of ["/healthz", "/livez", "/readyz", "/readyz?verbose=1"]) {
    const r = await h.get(p, { token: "" });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await r.text(), "ok");
  }
});

test("discovery: aggregated v2 with ETag/304, legacy group list, group and resource list", async () => {
  const r = await h.get("/apis", { headers: { Accept: AGGREGATED } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  assert.equal(r.headers.get("vary"), "Accept");
  const body = await json(r);
  assert.equal(body["kind"], "APIGroupDiscoveryList");
  const res = ((body.items?.[0]?.["versions"] as J[])[0]?.["resources"] as J[])[0];
  assert.deepEqual(res, {
    resource: "snapshots",
    singularResource: "snapshot",
    scope: "Namespaced",
    responseKind: { group: G, version: "v1alpha1", kind: "Snapshot" },
    verbs: ["delete", "get", "list", "watch"],
    shortNames: ["snap"],
    categories: ["podwarden"],
  });
  const etag = r.headers.get("etag") ?? "";
  const again = await h.get("/apis", { headers: { Accept: AGGREGATED, "If-None-Match": etag } });
  assert.equal(again.status, 304);
  const legacy = await json(await h.get("/apis", { headers: { Accept: "application/json" } }));
  assert.equal(legacy["kind"], "APIGroupList");
  const group = await json(await h.get(`/apis/${G}`));
  assert.deepEqual(group["preferredVersion"], { groupVersion: `${G}/v1alpha1`, version: "v1alpha1" });
  const list = await json(await h.get(BASE, { token: "admin-token" }));
  assert.equal(list["kind"], "APIResourceList");
  assert.equal(list["groupVersion"], `${G}/v1alpha1`);
  assert.equal(((list["resources"] as J[])[0] as J)["namespaced"], true);
});

test("OpenAPI v3 root, group-version document and v2; 406 for protobuf only", async () => {
  const root = await json(await h.get("/openapi/v3"));
  const url = ((root["paths"] as J)[`apis/${G}/v1alpha1`] as J)["serverRelativeURL"] as string;
  const doc = await h.get(url, { headers: { Accept: "application/json" } });
  assert.equal(doc.status, 200);
  assert.equal(doc.headers.get("cache-control"), "public, immutable");
  assert.equal((await json(doc))["openapi"], "3.0.0");
  assert.equal((await json(await h.get("/openapi/v2")))["swagger"], "2.0");
  const proto = await h.get(`/openapi/v3/apis/${G}/v1alpha1`, { headers: { Accept: "application/com.github.proto-openapi.spec.v3.v1.0+protobuf" } });
  assert.equal(proto.status, 406);
  assert.equal((await json(proto))["reason"], "NotAcceptable");
});

test("list: namespaced and all namespaces, as SnapshotList", async () => {
  const list = await json(await h.get(`${BASE}/namespaces/shop/snapshots`));
  assert.equal(list["kind"], "SnapshotList");
  assert.equal(list["apiVersion"], `${G}/v1alpha1`);
  assert.deepEqual(names(list), ["db-c1000000", "web-1", "web-2"]);
  assert.equal((list.metadata as J)["resourceVersion"], String(h.index.resourceVersion()));
  assert.equal(list.items?.[0]?.["kind"], "Snapshot");
  const everything = await json(await h.get(`${BASE}/snapshots`));
  assert.deepEqual(names(everything), ["etcd-1", "db-c1000000", "web-1", "web-2"]);
  const statuses = (list.items ?? []).map((i) => (i["status"] as J)["phase"]);
  assert.deepEqual(statuses, ["Complete", "Complete", "Partial"]);
});

test("list as Table (kubectl get) and as PartialObjectMetadataList", async () => {
  const r = await h.get(`${BASE}/namespaces/shop/snapshots?limit=500`, { headers: { Accept: TABLE } });
  assert.equal(r.headers.get("content-type"), "application/json");
  const table = await json(r);
  assert.equal(table["kind"], "Table");
  assert.equal(table["apiVersion"], "meta.k8s.io/v1");
  assert.deepEqual(table.rows?.[1]?.["cells"], ["web-1", "web", "Complete", "3Ki", 5, "60m", "web-1", "data,logs"]);
  assert.equal((table.rows?.[1]?.["object"] as J)["kind"], "PartialObjectMetadata");
  const full = await json(await h.get(`${BASE}/namespaces/shop/snapshots?includeObject=Object`, { headers: { Accept: TABLE } }));
  assert.equal((full.rows?.[0]?.["object"] as J)["kind"], "Snapshot");
  const bad = await h.get(`${BASE}/namespaces/shop/snapshots?includeObject=Everything`, { headers: { Accept: TABLE } });
  assert.equal(bad.status, 400);
  const accept = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
  const meta = await json(await h.get(`${BASE}/namespaces/shop/snapshots`, { headers: { Accept: accept } }));
  assert.equal(meta["kind"], "PartialObjectMetadataList");
  assert.deepEqual(Object.keys(meta.items?.[0] ?? {}), ["kind", "apiVersion", "metadata"]);
});

test("label and field selectors", async (t) => {
  const cases: { q: string; want: string[] }[] = [
    { q: "labelSelector=backup.podwarden.io/policy%3Dweb", want: ["web-1", "web-2"] },
    { q: "labelSelector=backup.podwarden.io/run%20in%20(web-2,x)", want: ["web-2"] },
    { q: "labelSelector=!backup.podwarden.io/run", want: ["db-c1000000"] },
    { q: "fieldSelector=metadata.name%3Dweb-1", want: ["web-1"] },
    { q: "fieldSelector=metadata.name!%3Dweb-1,metadata.namespace%3Dshop", want: ["db-c1000000", "web-2"] },
  ];
  for (const c of cases) await t.test(c.q, async () => assert.deepEqual(names(await json(await h.get(`${BASE}/namespaces/shop/snapshots?${c.q}`))), c.want));
  await t.test("unknown field", async () => {
    const r = await h.get(`${BASE}/snapshots?fieldSelector=spec.x%3D1`);
    assert.equal(r.status, 400);
    const s = await json(r);
    assert.equal(s["message"], '"spec.x" is not a known field selector: only "metadata.name", "metadata.namespace"');
    assert.equal(s["reason"], "BadRequest");
  });
});

test("limit/continue pages through everything; a bad token is 410 Expired", async () => {
  const seen: unknown[] = [];
  let token = "";
  for (let i = 0; i < 10; i++) {
    const page = await json(await h.get(`${BASE}/snapshots?limit=1${token ? `&continue=${encodeURIComponent(token)}` : ""}`));
    seen.push(...names(page));
    token = ((page.metadata as J)["continue"] as string | undefined) ?? "";
    if (token === "") break;
    assert.equal(typeof (page.metadata as J)["remainingItemCount"], "number");
  }
  assert.deepEqual(seen, ["etcd-1", "db-c1000000", "web-1", "web-2"]);
  const bad = await h.get(`${BASE}/snapshots?limit=1&continue=garbage`);
  assert.equal(bad.status, 410);
  assert.equal((await json(bad))["reason"], "Expired");
});

test("get: JSON, one-row Table, PartialObjectMetadata, 404 shape", async () => {
  const s = await json(await h.get(`${BASE}/namespaces/shop/snapshots/web-1`));
  assert.equal(s["kind"], "Snapshot");
  assert.deepEqual(((s["status"] as J)["totals"] as J)["volumes"], 2);
  const table = await json(await h.get(`${BASE}/namespaces/shop/snapshots/web-1`, { headers: { Accept: TABLE } }));
  assert.equal(table.rows?.length, 1);
  const meta = await json(await h.get(`${BASE}/namespaces/shop/snapshots/web-1`, { headers: { Accept: "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1" } }));
  assert.equal(meta["kind"], "PartialObjectMetadata");
  const missing = await h.get(`${BASE}/namespaces/shop/snapshots/nope`);
  assert.equal(missing.status, 404);
  assert.deepEqual(await json(missing), {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: `snapshots.${G} "nope" not found`,
    reason: "NotFound",
    details: { name: "nope", group: G, kind: "snapshots" },
    code: 404,
  });
  const unknown = await h.get(`${BASE}/namespaces/shop/widgets`);
  assert.equal(unknown.status, 404);
  assert.equal((await json(unknown))["message"], "the server could not find the requested resource");
});

test("unsupported verbs are 405 and unacceptable media types 406", async (t) => {
  const cases: { method: string; path: string; verb: string }[] = [
    { method: "POST", path: `${BASE}/namespaces/shop/snapshots`, verb: "create" },
    { method: "PUT", path: `${BASE}/namespaces/shop/snapshots/web-1`, verb: "update" },
    { method: "PATCH", path: `${BASE}/namespaces/shop/snapshots/web-1`, verb: "patch" },
    { method: "DELETE", path: `${BASE}/namespaces/shop/snapshots`, verb: "deletecollection" },
  ];
  for (const c of cases) {
    await t.test(c.method, async () => {
      const r = await h.get(c.path, { method: c.method, body: "{}", headers: { "Content-Type": "application/json" } });
      assert.equal(r.status, 405);
      const s = await json(r);
      assert.equal(s["message"], `${c.verb} is not supported on resources of kind "snapshots.${G}"`);
      assert.deepEqual(s["details"], { group: G, kind: "snapshots" });
    });
  }
  const r = await h.get(`${BASE}/namespaces/shop/snapshots`, { headers: { Accept: "application/vnd.kubernetes.protobuf" } });
  assert.equal(r.status, 406);
});

test("degraded repository: Warning header, its last rows and the other policy's rows intact", async () => {
  h.sources.fail(web, "BackendUnreachable", 'restic repository s3:http://127.0.0.1:9/b: "connection refused"');
  await h.index.refreshAll();
  const r = await h.get(`${BASE}/namespaces/shop/snapshots`);
  assert.equal(r.status, 200);
  const warning = r.headers.get("warning") ?? "";
  assert.match(warning, /^299 - "BackupPolicy shop\/web: .*\(BackendUnreachable\): restic repository .*\\"connection refused\\""$/);
  assert.deepEqual(names(await json(r)), ["db-c1000000", "web-1", "web-2"]);
  assert.equal((await h.get(`${BASE}/namespaces/ops/snapshots`)).headers.get("warning"), null);
  assert.match((await h.get(`${BASE}/snapshots`)).headers.get("warning") ?? "", /shop\/web/);
  h.sources.set(web, [
    resticSnap({ id: hexId("a1"), policy: "web", run: "web-1", pvc: "data", bytes: 2048, files: 4 }),
    resticSnap({ id: hexId("a2"), policy: "web", run: "web-1", pvc: "logs", bytes: 1024, files: 1 }),
    resticSnap({ id: hexId("b1"), policy: "web", run: "web-2", pvc: "data" }),
  ]);
  await h.index.refresh("shop/web");
  assert.equal((await h.get(`${BASE}/namespaces/shop/snapshots`)).headers.get("warning"), null);
});

test("delete: dryRun, precondition 409, then forget and 404", async () => {
  const path = `${BASE}/namespaces/shop/snapshots/web-2`;
  const before = await json(await h.get(path));
  const uid = (before.metadata as J)["uid"];
  const del = (body: unknown, q = "") => h.get(path + q, { method: "DELETE", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
  const dry = await del({ kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background", dryRun: ["All"] });
  assert.equal(dry.status, 200);
  assert.deepEqual(await json(dry), { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name: "web-2", group: G, kind: "snapshots", uid } });
  assert.equal((await del({}, "?dryRun=All")).status, 200);
  assert.deepEqual(h.sources.forgotten, []);
  const conflict = await del({ preconditions: { uid: "0000" } });
  assert.equal(conflict.status, 409);
  const c = await json(conflict);
  assert.equal(c["reason"], "Conflict");
  assert.equal(c["message"], `Operation cannot be fulfilled on snapshots.${G} "web-2": Precondition failed: UID in precondition: 0000, UID in object meta: ${String(uid)}`);
  assert.equal((await del({ dryRun: ["Some"] })).status, 400);
  const bad = await h.get(path, { method: "DELETE", body: "x", headers: { "Content-Type": "application/vnd.kubernetes.protobuf" } });
  assert.equal(bad.status, 415);
  const refused = [
    { name: "a body over 256 KiB", init: { body: `{"kind":"DeleteOptions","x":"${"a".repeat(300 * 1024)}"}` }, code: 400, message: /^the request body could not be read: it is larger than 262144 bytes$/ },
    { name: "a compressed body", init: { body: "x", headers: { "Content-Type": "application/json", "Content-Encoding": "gzip" } }, code: 415, message: /accepted media types include: application\/json \(got "Content-Encoding: gzip"\)/ },
  ];
  for (const r of refused) {
    const res = await h.get(path, { method: "DELETE", ...r.init });
    assert.equal(res.status, r.code, r.name);
    assert.match(String((await json(res))["message"]), r.message, r.name);
  }
  const ok = await del({ kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background", preconditions: { uid } });
  assert.equal(ok.status, 200);
  assert.deepEqual(h.sources.forgotten, [hexId("b1")]);
  assert.equal((await h.get(path)).status, 404);
  assert.equal((await del({})).status, 404);
});

test("delete by the namespace controller: answered as done, nothing forgotten, the row stays", async () => {
  h.tokens.users.set("nsctl-token", { username: "system:serviceaccount:kube-system:namespace-controller", groups: ["system:serviceaccounts"] });
  h.tokens.users.set("kcm-admin-token", { username: "admin", groups: ["system:masters"] });
  const path = `${BASE}/namespaces/shop/snapshots/web-1`;
  const uid = ((await json(await h.get(path))).metadata as J)["uid"];
  const forgottenBefore = [...h.sources.forgotten];
  const cases = [
    { name: "namespace controller ServiceAccount", token: "nsctl-token", agent: "kube-controller-manager/v1.33.13 (linux/amd64) kubernetes/abcdef0/namespace-controller" },
    { name: "controller manager with admin credentials", token: "kcm-admin-token", agent: "kube-controller-manager/v1.33.13 (linux/amd64) kubernetes/abcdef0/namespace-controller" },
  ];
  for (const c of cases) {
    const r = await h.get(path, { method: "DELETE", token: c.token, headers: { "User-Agent": c.agent, "Content-Type": "application/json" }, body: "{}" });
    assert.equal(r.status, 200, c.name);
    assert.deepEqual(await json(r), { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name: "web-1", group: G, kind: "snapshots", uid } }, c.name);
  }
  assert.deepEqual(h.sources.forgotten, forgottenBefore);
  assert.equal((await h.get(path)).status, 200);
  const gone = await h.get(`${BASE}/namespaces/shop/snapshots/nope`, { method: "DELETE", token: "nsctl-token" });
  assert.equal(gone.status, 404);
});
