import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatFieldError } from "../field-errors.ts";
import { validateStorageConnection } from "./storageconnection.ts";

const creds = { namespace: "podwarden-system", name: "s3-creds" };
const s3 = (s3: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): unknown => ({
  metadata: { name: "bucket" },
  spec: { type: "s3", s3: { endpoint: "https://s3.example.com", bucket: "backups", credentialsSecretRef: creds, ...s3 }, ...extra },
});
const nfs = (n: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): unknown => ({
  metadata: { name: "nas" },
  spec: { type: "nfs", nfs: { server: "10.0.0.5", path: "/exports/backups", ...n }, ...extra },
});

const cases: { name: string; obj: unknown; errors?: string[] }[] = [
  { name: "valid s3", obj: s3() },
  { name: "valid s3 with port, region and prefix", obj: s3({ endpoint: "http://minio.storage:9000", region: "eu-west-1", prefix: "team-a" }) },
  { name: "valid nfs", obj: nfs() },
  {
    name: "s3 endpoint needs a scheme",
    obj: s3({ endpoint: "s3.example.com" }),
    errors: ['spec.s3.endpoint: Invalid value: "s3.example.com": must be a URL with its scheme, e.g. https://s3.example.com or http://minio.storage:9000'],
  },
  {
    name: "s3 endpoint scheme must be http(s)",
    obj: s3({ endpoint: "ftp://s3.example.com" }),
    errors: ['spec.s3.endpoint: Invalid value: "ftp://s3.example.com": scheme must be http or https, e.g. https://s3.example.com'],
  },
  {
    name: "s3 endpoint must not carry the bucket",
    obj: s3({ endpoint: "https://s3.example.com/backups" }),
    errors: ['spec.s3.endpoint: Invalid value: "https://s3.example.com/backups": must not contain a path: put the bucket in spec.s3.bucket and the path in spec.s3.prefix'],
  },
  ...["Backups", "ab", "a..b", "192.168.1.1", "-bucket", "x".repeat(64)].map((bucket) => ({
    name: `bucket ${bucket.slice(0, 20)} is invalid`,
    obj: s3({ bucket }),
    errors: [`spec.s3.bucket: Invalid value: ${JSON.stringify(bucket).length > 80 ? `${JSON.stringify(bucket).slice(0, 77)}...` : JSON.stringify(bucket)}: must be a valid bucket name: 3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, not an IP address`],
  })),
  {
    name: "s3 needs its credentials reference",
    obj: s3({ credentialsSecretRef: undefined }),
    errors: ["spec.s3.credentialsSecretRef: Required value: must be set: expected an object"],
  },
  {
    name: "s3 credentials reference names must be set",
    obj: s3({ credentialsSecretRef: { namespace: "", name: "" } }),
    errors: ["spec.s3.credentialsSecretRef.namespace: Required value: a name is required", "spec.s3.credentialsSecretRef.name: Required value: a name is required"],
  },
  {
    name: "type s3 needs the s3 block",
    obj: { spec: { type: "s3" } },
    errors: ["spec.s3: Required value: required when spec.type is s3: set endpoint, bucket and credentialsSecretRef"],
  },
  {
    name: "type s3 must not carry nfs",
    obj: s3({}, { nfs: { server: "a", path: "/b" } }),
    errors: ["spec.nfs: Forbidden: must be omitted when spec.type is s3"],
  },
  {
    name: "type nfs needs the nfs block",
    obj: { spec: { type: "nfs" } },
    errors: ["spec.nfs: Required value: required when spec.type is nfs: set server and path"],
  },
  {
    name: "nfs path must be absolute, server set",
    obj: nfs({ server: "", path: "exports" }),
    errors: ["spec.nfs.server: Required value: the NFS server's host name or IP address", 'spec.nfs.path: Invalid value: "exports": must be an absolute export path, e.g. /exports/backups'],
  },
  {
    name: "type nfs must not carry s3",
    obj: nfs({}, { s3: { endpoint: "https://a", bucket: "abc", credentialsSecretRef: creds } }),
    errors: ["spec.s3: Forbidden: must be omitted when spec.type is nfs"],
  },
  {
    name: "unknown type",
    obj: { spec: { type: "ftp" } },
    errors: ['spec.type: Unsupported value: "ftp": supported values: "nfs", "s3"'],
  },
];

describe("validateStorageConnection", () => {
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(validateStorageConnection(c.obj).errors.map(formatFieldError), c.errors ?? []));
  }
});
