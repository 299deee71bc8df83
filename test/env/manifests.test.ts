import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { apiServiceObjects, asList, crdNames, joinUrl, parseManifests, rewriteWebhookConfigs } from "./manifests.ts";

const webhookYaml = `
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: m}
webhooks:
- name: a.example.com
  clientConfig:
    service: {name: webhook, namespace: ns, path: /mutate-backuppolicy, port: 443}
    caBundle: b2xk
  rules: [{apiGroups: [backup.podwarden.io], apiVersions: [v1alpha1], operations: [CREATE], resources: [backuppolicies]}]
  sideEffects: None
  admissionReviewVersions: [v1]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: v}
webhooks:
- name: b.example.com
  clientConfig: {url: "https://webhook.example:9443/validate?x=1"}
- name: c.example.com
  clientConfig: {service: {name: webhook, namespace: ns}}
---
apiVersion: v1
kind: Service
metadata: {name: webhook}
---
`;

describe("parseManifests / crdNames", () => {
  it("skips empty documents and finds CRD names", () => {
    const objs = parseManifests(
      "kind: CustomResourceDefinition\nmetadata: {name: a.x.io}\n---\n---\nkind: ConfigMap\nmetadata: {name: c}\n---\nkind: CustomResourceDefinition\nmetadata: {name: b.x.io}\n",
      "f.yaml",
    );
    assert.equal(objs.length, 3);
    assert.deepEqual(crdNames(objs), ["a.x.io", "b.x.io"]);
  });
  it("names the file on invalid YAML", () => {
    assert.throws(() => parseManifests("a: [1, 2\n", "bad.yaml"), /bad.yaml: invalid YAML/);
  });
});

describe("joinUrl", () => {
  const cases = [
    { base: "https://127.0.0.1:9443", path: "/mutate", want: "https://127.0.0.1:9443/mutate" },
    { base: "https://127.0.0.1:9443/", path: "//mutate", want: "https://127.0.0.1:9443/mutate" },
    { base: "https://127.0.0.1:9443/prefix", path: "validate", want: "https://127.0.0.1:9443/prefix/validate" },
    { base: "https://127.0.0.1:9443", path: "", want: "https://127.0.0.1:9443" },
  ];
  for (const tc of cases) it(`${tc.base} + ${tc.path}`, () => assert.equal(joinUrl(tc.base, tc.path), tc.want));
});

describe("rewriteWebhookConfigs", () => {
  const objs = parseManifests(webhookYaml, "webhooks.yaml");
  const out = rewriteWebhookConfigs(objs, { url: "https://127.0.0.1:9443", caBundle: "Q0E=" });
  const hooks = out.map((o) => o.webhooks as { name: string; clientConfig: unknown; rules?: unknown }[]);
  const cases = [
    { name: "service path kept", hook: hooks[0]?.[0], want: { url: "https://127.0.0.1:9443/mutate-backuppolicy", caBundle: "Q0E=" } },
    { name: "url path kept, query dropped", hook: hooks[1]?.[0], want: { url: "https://127.0.0.1:9443/validate", caBundle: "Q0E=" } },
    { name: "no path → base url", hook: hooks[1]?.[1], want: { url: "https://127.0.0.1:9443", caBundle: "Q0E=" } },
  ];
  for (const tc of cases) it(tc.name, () => assert.deepEqual(tc.hook?.clientConfig, tc.want));
  it("keeps only webhook configurations and their other fields", () => {
    assert.deepEqual(out.map((o) => o.kind), ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]);
    assert.ok(hooks[0]?.[0]?.rules);
  });
  it("rejects a plain-http url", () => {
    assert.throws(() => rewriteWebhookConfigs(objs, { url: "http://127.0.0.1:1", caBundle: "" }), /is not https/);
  });
});

describe("apiServiceObjects", () => {
  it("builds namespace, ExternalName service and APIService", () => {
    const [ns, svc, api] = apiServiceObjects({
      group: "snapshots.backup.podwarden.io",
      version: "v1alpha1",
      port: 8443,
      caBundle: "Q0E=",
      serviceName: "snapshots-api",
      namespace: "podwarden-system",
    });
    assert.deepEqual(ns, { apiVersion: "v1", kind: "Namespace", metadata: { name: "podwarden-system" } });
    assert.deepEqual((svc as { spec: unknown }).spec, {
      type: "ExternalName",
      externalName: "localhost",
      ports: [{ name: "https", port: 8443, protocol: "TCP" }],
    });
    assert.deepEqual(api, {
      apiVersion: "apiregistration.k8s.io/v1",
      kind: "APIService",
      metadata: { name: "v1alpha1.snapshots.backup.podwarden.io" },
      spec: {
        group: "snapshots.backup.podwarden.io",
        version: "v1alpha1",
        groupPriorityMinimum: 1000,
        versionPriority: 15,
        service: { name: "snapshots-api", namespace: "podwarden-system", port: 8443 },
        caBundle: "Q0E=",
      },
    });
  });
  it("asList wraps objects in a v1 List", () => {
    assert.deepEqual(JSON.parse(asList([{ kind: "A" }])), { apiVersion: "v1", kind: "List", items: [{ kind: "A" }] });
  });
});
