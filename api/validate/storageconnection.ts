/**
 * StorageConnection rules: the fields of its type are required, the other type's absent.
 * @module
 */
import type { StorageConnection } from "../storageconnection.ts";
import { StorageConnection as Schema } from "../storageconnection.ts";
import type { FieldError, ValidationResult } from "../field-errors.ts";
import { forbidden, invalid, required } from "../field-errors.ts";
import { nameErrors, structuralErrors } from "./common.ts";

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export function bucketErrors(field: string, bucket: string): FieldError[] {
  if (!BUCKET.test(bucket) || bucket.includes("..") || IPV4.test(bucket)) {
    return [invalid(field, bucket, "must be a valid bucket name: 3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, not an IP address")];
  }
  return [];
}

export function endpointErrors(field: string, endpoint: string): FieldError[] {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return [invalid(field, endpoint, "must be a URL with its scheme, e.g. https://s3.example.com or http://minio.storage:9000")];
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return [invalid(field, endpoint, "scheme must be http or https, e.g. https://s3.example.com")];
  }
  if (url.pathname !== "/" && url.pathname !== "") {
    return [invalid(field, endpoint, "must not contain a path: put the bucket in spec.s3.bucket and the path in spec.s3.prefix")];
  }
  return [];
}

function s3Errors(sc: StorageConnection): FieldError[] {
  const s3 = sc.spec.s3;
  if (!s3) return [required("spec.s3", "required when spec.type is s3: set endpoint, bucket and credentialsSecretRef")];
  return [
    ...(sc.spec.nfs ? [forbidden("spec.nfs", "must be omitted when spec.type is s3")] : []),
    ...endpointErrors("spec.s3.endpoint", s3.endpoint),
    ...bucketErrors("spec.s3.bucket", s3.bucket),
    ...nameErrors("spec.s3.credentialsSecretRef.namespace", s3.credentialsSecretRef.namespace),
    ...nameErrors("spec.s3.credentialsSecretRef.name", s3.credentialsSecretRef.name),
    ...(s3.prefix?.startsWith("/") ? [invalid("spec.s3.prefix", s3.prefix, "must not start with '/', e.g. team-a/backups")] : []),
  ];
}

function nfsErrors(sc: StorageConnection): FieldError[] {
  const nfs = sc.spec.nfs;
  if (!nfs) return [required("spec.nfs", "required when spec.type is nfs: set server and path")];
  return [
    ...(sc.spec.s3 ? [forbidden("spec.s3", "must be omitted when spec.type is nfs")] : []),
    ...(nfs.server.trim() === "" ? [required("spec.nfs.server", "the NFS server's host name or IP address")] : []),
    ...(nfs.path.startsWith("/") ? [] : [invalid("spec.nfs.path", nfs.path, "must be an absolute export path, e.g. /exports/backups")]),
  ];
}

export function validateStorageConnection(obj: unknown): ValidationResult {
  const structure = structuralErrors(Schema, obj);
  if (structure.length > 0) return { errors: structure, warnings: [] };
  const sc = obj as StorageConnection;
  return { errors: sc.spec.type === "s3" ? s3Errors(sc) : nfsErrors(sc), warnings: [] };
}
