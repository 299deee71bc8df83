import { test } from "node:test";
import assert from "node:assert/strict";
import { generateCA } from "../certs/certificates.ts";
import { parseAuthConfigMap, parseStringArray } from "./auth-config.ts";

test("parseStringArray reads the ConfigMap's JSON-array strings", async (t) => {
  const cases: { raw: string | undefined; want: string[]; errors: number }[] = [
    { raw: undefined, want: [], errors: 0 },
    { raw: "", want: [], errors: 0 },
    { raw: '["X-Remote-User"]', want: ["X-Remote-User"], errors: 0 },
    { raw: '["a",""]', want: ["a"], errors: 0 },
    { raw: "X-Remote-User", want: [], errors: 1 },
    { raw: "[1]", want: [], errors: 1 },
  ];
  for (const c of cases) {
    await t.test(String(c.raw), () => {
      const errors: string[] = [];
      assert.deepEqual(parseStringArray(c.raw, "requestheader-username-headers", errors), c.want);
      assert.equal(errors.length, c.errors);
      if (c.errors) assert.match(errors[0] ?? "", /requestheader-username-headers: expected a JSON array of strings/);
    });
  }
});

test("parseAuthConfigMap", async (t) => {
  const a = await generateCA("a");
  const b = await generateCA("b");
  await t.test("client CA bundle and requestheader settings", () => {
    const { config, errors } = parseAuthConfigMap({
      "client-ca-file": a.certPem + b.certPem,
      "requestheader-client-ca-file": b.certPem,
      "requestheader-allowed-names": '["front-proxy-client"]',
      "requestheader-username-headers": '["X-Remote-User"]',
      "requestheader-group-headers": '["X-Remote-Group"]',
      "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
    });
    assert.deepEqual(errors, []);
    assert.equal(config.clientCA.length, 2);
    assert.deepEqual(config.requestHeader?.allowedNames, ["front-proxy-client"]);
    assert.deepEqual(config.requestHeader?.uidHeaders, []);
    assert.equal(config.requestHeader?.ca.length, 1);
  });
  await t.test("no requestheader CA: no front-proxy", () => {
    const { config, errors } = parseAuthConfigMap({ "client-ca-file": a.certPem });
    assert.equal(config.requestHeader, undefined);
    assert.deepEqual(errors, []);
  });
  await t.test("requestheader CA without username headers is refused", () => {
    const { config, errors } = parseAuthConfigMap({ "requestheader-client-ca-file": a.certPem });
    assert.equal(config.requestHeader, undefined);
    assert.match(errors[0] ?? "", /requestheader-username-headers: must name at least one header/);
  });
  await t.test("garbage PEM is reported", () => {
    const { config, errors } = parseAuthConfigMap({ "client-ca-file": "not a pem" });
    assert.equal(config.clientCA.length, 0);
    assert.match(errors[0] ?? "", /client-ca-file: expected PEM/);
  });
});
