/**
 * Files and keys made by the real restic 0.18.1 (see vectors.json `_about`), for unit tests.
 * @module
 */
import { readFileSync } from "node:fs";
import type { CryptoKey } from "../crypto.ts";

export interface RepoVector {
  readonly version: 1 | 2;
  readonly keyFile: { readonly id: string; readonly json: string };
  readonly masterKey: { readonly mac: { readonly k: string; readonly r: string }; readonly encrypt: string };
  readonly config: { readonly sealed: string; readonly plain: { readonly id: string; readonly version: number } };
  readonly snapshot: { readonly id: string; readonly sealed: string; readonly expected: Record<string, unknown> };
}

export interface Vectors {
  readonly password: string;
  readonly repositories: { readonly v1: RepoVector; readonly v2: RepoVector };
}

export const vectors = JSON.parse(readFileSync(new URL("./vectors.json", import.meta.url), "utf8")) as Vectors;

export function masterKeyOf(v: RepoVector): CryptoKey {
  const b = (s: string): Uint8Array => Buffer.from(s, "base64");
  return { encrypt: b(v.masterKey.encrypt), macK: b(v.masterKey.mac.k), macR: b(v.masterKey.mac.r) };
}

/** The repository's files as a `path → bytes` map, for memoryBackend. */
export function repoFiles(v: RepoVector): Map<string, Uint8Array> {
  return new Map<string, Uint8Array>([
    ["config", Buffer.from(v.config.sealed, "base64")],
    [`keys/${v.keyFile.id}`, Buffer.from(v.keyFile.json, "utf8")],
    [`snapshots/${v.snapshot.id}`, Buffer.from(v.snapshot.sealed, "base64")],
  ]);
}
