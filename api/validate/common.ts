/**
 * Building blocks shared by the validators: structural checks from the zod schemas, names,
 * and the lookups validation needs (answered from a watch-backed cache, never the network).
 * @module
 */
import type { z } from "zod";
import type { WorkloadKind } from "../backuppolicy.ts";
import type { FieldError } from "../field-errors.ts";
import { invalid, notSupported, required } from "../field-errors.ts";

export interface Workload {
  readonly replicas: number;
}

export interface ValidationContext {
  readonly storageConnectionExists: (name: string) => boolean;
  readonly policyExists: (namespace: string, name: string) => boolean;
  readonly workload: (namespace: string, kind: WorkloadKind, name: string) => Workload | undefined;
  readonly now: () => Date;
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === "number" ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), "");
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

const article = (word: string): string => (/^[aeiou]/.test(word) ? "an" : "a");

function issueToError(root: unknown, issue: z.core.$ZodIssue): FieldError {
  const field = fieldPath(issue.path);
  const value = valueAt(root, issue.path);
  if (issue.code === "invalid_value") return notSupported(field, value, issue.values.map(String));
  if (issue.code === "invalid_type") {
    const expected = issue.expected === "int" ? "integer" : issue.expected;
    if (value === undefined) return required(field, `must be set: expected ${article(expected)} ${expected}`);
    return invalid(field, value, `must be ${article(expected)} ${expected}`);
  }
  if (value === undefined) return required(field, `must be set (${issue.message})`);
  return invalid(field, value, issue.message);
}

/** Checks the object's shape against its schema; every mismatch becomes a field error. */
export function structuralErrors(schema: z.ZodType, obj: unknown): FieldError[] {
  const result = schema.safeParse(obj);
  return result.success ? [] : result.error.issues.map((issue) => issueToError(obj, issue));
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A Kubernetes object name (DNS-1123 subdomain, as PVCs, Secrets and Deployments use). */
export function nameErrors(field: string, value: string | undefined): FieldError[] {
  if (value === undefined || value === "") return [required(field, "a name is required")];
  if (value.length > 253 || !DNS1123_SUBDOMAIN.test(value)) {
    return [invalid(field, value, "must be a lowercase RFC 1123 name: letters, digits, '-' and '.', starting and ending with a letter or digit")];
  }
  return [];
}

export function labelErrors(field: string, value: string): FieldError[] {
  if (value.length > 63 || !DNS1123_LABEL.test(value)) {
    return [invalid(field, value, "must be a lowercase RFC 1123 label: at most 63 letters, digits and '-', starting and ending with a letter or digit")];
  }
  return [];
}

export const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
