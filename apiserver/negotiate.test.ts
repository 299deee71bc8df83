import { test } from "node:test";
import assert from "node:assert/strict";
import { StatusError } from "./errors.ts";
import { negotiate, negotiateOrThrow, parseAccept } from "./negotiate.ts";
import type { Offer } from "./negotiate.ts";

const KUBECTL_GET = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
const METADATA_LIST = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
const METADATA_ITEM = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
const AGGREGATOR = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

test("negotiate", async (t) => {
  const list: Offer = { table: true, partial: "list" };
  const item: Offer = { table: true, partial: "item" };
  const cases: { name: string; accept: string | undefined; offer: Offer; want: unknown }[] = [
    { name: "no Accept", accept: undefined, offer: list, want: { kind: "json" } },
    { name: "kubectl get", accept: KUBECTL_GET, offer: list, want: { kind: "table", version: "v1" } },
    { name: "Table v1beta1 only", accept: "application/json;as=Table;v=v1beta1;g=meta.k8s.io", offer: list, want: { kind: "table", version: "v1beta1" } },
    { name: "Table of another group falls back", accept: "application/json;as=Table;v=v1;g=other.io,application/json", offer: list, want: { kind: "json" } },
    { name: "metadata client list", accept: METADATA_LIST, offer: list, want: { kind: "partial", version: "v1", list: true } },
    { name: "metadata client get", accept: METADATA_ITEM, offer: item, want: { kind: "partial", version: "v1", list: false } },
    { name: "item form asked of a list falls back to JSON", accept: METADATA_ITEM, offer: list, want: { kind: "json" } },
    { name: "aggregated discovery", accept: AGGREGATOR, offer: { discovery: true }, want: { kind: "discovery", version: "v2" } },
    { name: "aggregated discovery elsewhere", accept: AGGREGATOR, offer: {}, want: undefined },
    { name: "*/*", accept: "*/*", offer: {}, want: { kind: "json" } },
    { name: "application/*", accept: "application/*", offer: {}, want: { kind: "json" } },
    { name: "q ordering", accept: "application/json;q=0.5,application/json;as=Table;v=v1;g=meta.k8s.io", offer: list, want: { kind: "table", version: "v1" } },
    { name: "q=0 excluded", accept: "application/json;q=0", offer: {}, want: undefined },
    { name: "protobuf only", accept: "application/vnd.kubernetes.protobuf", offer: list, want: undefined },
    { name: "yaml only", accept: "application/yaml", offer: list, want: undefined },
    { name: "openapi protobuf only", accept: "application/com.github.proto-openapi.spec.v3.v1.0+protobuf", offer: {}, want: undefined },
  ];
  for (const c of cases) await t.test(c.name, () => assert.deepEqual(negotiate(c.accept, c.offer), c.want));
});

test("406 NotAcceptable Status", () => {
  assert.throws(
    () => negotiateOrThrow("application/vnd.kubernetes.protobuf", {}),
    (err: unknown) =>
      err instanceof StatusError &&
      err.status.code === 406 &&
      err.status.reason === "NotAcceptable" &&
      err.status.message === "only the following media types are accepted: application/json",
  );
});

test("parseAccept keeps parameters and orders by q", () => {
  const ranges = parseAccept('text/plain;q=0.2, application/json;as="Table";v=v1;g=meta.k8s.io');
  assert.equal(ranges[0]?.params.get("as"), "Table");
  assert.equal(ranges[1]?.type, "text");
});
