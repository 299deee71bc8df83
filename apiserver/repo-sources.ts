/**
 * SnapshotSources over the native restic reader: each BackupPolicy's repository is resolved
 * from its StorageConnection and password Secret, opened once and kept (so only snapshot
 * files not seen before are fetched), and reopened after any failure.
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Logger } from "../kube/log.ts";
// Not restic/index.ts: that loads the S3 SDK, which only S3 repositories need (imported then).
import { localBackend } from "../restic/backend.ts";
import type { Backend } from "../restic/backend.ts";
import { cacheFilesOf, sweepCacheDir } from "../restic/cache-sweep.ts";
import { isResticRepoError } from "../restic/errors.ts";
import type { DecodePool } from "../restic/decode-pool.ts";
import type { KeyStore } from "../restic/key-store.ts";
import { openRepository } from "../restic/repository.ts";
import type { Repository } from "../restic/repository.ts";
import { policyKey } from "./types.ts";
import type { PolicyRef, SnapshotSources, SourceFailure, SourceResult } from "./types.ts";

/** The fields of a BackupPolicy this adapter reads. */
export interface PolicyLike {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: {
    readonly storageRef?: { readonly name?: string };
    readonly repository?: { readonly path?: string; readonly passwordSecretName?: string };
  };
}

/** The fields of a StorageConnection this adapter reads. */
export interface StorageLike {
  readonly spec?: {
    readonly type?: string;
    readonly nfs?: { readonly server?: string; readonly path?: string };
    readonly s3?: {
      readonly endpoint?: string;
      readonly bucket?: string;
      readonly region?: string;
      readonly prefix?: string;
      readonly credentialsSecretRef?: { readonly namespace?: string; readonly name?: string };
    };
  };
}

export type RepoTarget =
  | { readonly type: "nfs"; readonly server: string; readonly exportPath: string; readonly path: string }
  | { readonly type: "s3"; readonly endpoint: string; readonly bucket: string; readonly region?: string; readonly prefix: string; readonly path: string; readonly accessKeyId: string; readonly secretAccessKey: string };

export interface RepoSourcesDeps {
  /** Every BackupPolicy (from a watch-backed cache). */
  readonly listPolicies: () => readonly PolicyLike[];
  readonly getPolicy: (namespace: string, name: string) => PolicyLike | undefined;
  readonly getStorage: (name: string) => StorageLike | undefined;
  /** The Secret's decoded data; undefined when it does not exist. */
  readonly readSecret: (namespace: string, name: string) => Promise<Readonly<Record<string, string>> | undefined>;
  /** Builds the backend of a target; default: NFS under `nfsRoot`, S3 through the SDK. */
  readonly backend: (target: RepoTarget) => Backend | Promise<Backend>;
  /**
   * Directory of the reader's persistent snapshot cache (encrypted with each repository's key;
   * an emptyDir is enough): a restarted server lists from it instead of fetching every snapshot
   * file again. Unset: snapshots are cached in memory only.
   */
  readonly cacheDir?: string;
  /**
   * Where unlocked keys are kept beyond this process (restic/key-store.ts), e.g. the files of
   * `cacheDir` and then a Secret (key-secret.ts); default: the files of `cacheDir`, if set.
   */
  readonly keyStore?: KeyStore;
  /** Worker threads for key derivations and large listings (restic/decode-pool.ts); default: the reader's own. */
  readonly decodePool?: DecodePool;
  /** For the hourly sweep of `cacheDir` and the key store (entries of repositories no longer served); default Date.now. */
  readonly clock?: { now(): number };
  readonly log: Logger;
}

/** How often the cache directory is swept, and how old an unused file must be to go. */
const SWEEP_EVERY_MS = 3_600_000;
const SWEEP_OLDER_THAN_MS = 24 * 3_600_000;

/**
 * An NFS export is read where the deployment mounted it: `<nfsRoot>/<server>/<export path>`. The
 * S3 backend (and the SDK) is loaded the first time an S3 repository is opened.
 */
export function defaultBackend(nfsRoot: string): (target: RepoTarget) => Backend | Promise<Backend> {
  return (t) => {
    if (t.type === "nfs") return localBackend(join(nfsRoot, t.server, t.exportPath, t.path));
    return import("../restic/s3.ts").then(({ s3Backend }) =>
      s3Backend({ endpoint: t.endpoint, bucket: t.bucket, ...(t.region ? { region: t.region } : {}), prefix: `${t.prefix}/${t.path}`, accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey }),
    );
  };
}

class Failure extends Error {
  readonly failure: SourceFailure;
  constructor(reason: string, message: string) {
    super(message);
    this.failure = { reason, message };
  }
}

/** A policy whose repository has been assigned (by the webhook, at create time). */
export function hasRepository(p: PolicyLike): boolean {
  return !!(p.metadata?.name && p.metadata.namespace && p.spec?.repository?.path && p.spec.repository.passwordSecretName);
}

/** What resolving a policy's repository reads. */
export type ResolveDeps = Pick<RepoSourcesDeps, "getPolicy" | "getStorage" | "readSecret">;

async function secretValue(deps: ResolveDeps, ref: { namespace: string; name: string; key: string; what: string }): Promise<string> {
  const data = await deps.readSecret(ref.namespace, ref.name);
  const value = data?.[ref.key];
  if (value === undefined || value === "") {
    throw new Failure("SecretNotFound", `${ref.what}: Secret ${ref.namespace}/${ref.name} ${data === undefined ? "does not exist" : `has no key ${ref.key}`}; expected a Secret with key ${ref.key}`);
  }
  return value;
}

async function s3Target(deps: ResolveDeps, s3: NonNullable<NonNullable<StorageLike["spec"]>["s3"]>, path: string, storageName: string): Promise<RepoTarget> {
  const creds = s3.credentialsSecretRef;
  if (!s3.endpoint || !s3.bucket || !creds?.namespace || !creds.name) {
    throw new Failure("StorageInvalid", `StorageConnection ${storageName}: spec.s3 needs endpoint, bucket and credentialsSecretRef {namespace, name}`);
  }
  const ref = { namespace: creds.namespace, name: creds.name, what: `StorageConnection ${storageName}` };
  const accessKeyId = await secretValue(deps, { ...ref, key: "AWS_ACCESS_KEY_ID" });
  const secretAccessKey = await secretValue(deps, { ...ref, key: "AWS_SECRET_ACCESS_KEY" });
  return { type: "s3", endpoint: s3.endpoint, bucket: s3.bucket, ...(s3.region ? { region: s3.region } : {}), prefix: s3.prefix ?? "", path, accessKeyId, secretAccessKey };
}

function policyRepository(deps: ResolveDeps, ref: PolicyRef): { path: string; passwordSecretName: string; storage: string } {
  const policy = deps.getPolicy(ref.namespace, ref.name);
  if (policy === undefined || !hasRepository(policy)) throw new Failure("PolicyNotFound", `BackupPolicy ${policyKey(ref)} does not exist or has no spec.repository yet`);
  const repo = policy.spec?.repository as { path: string; passwordSecretName: string };
  return { ...repo, storage: policy.spec?.storageRef?.name ?? "" };
}

/** Where a policy's repository lives, with the credentials to read it; rejects with the reason it cannot. */
export async function resolveTarget(deps: ResolveDeps, ref: PolicyRef): Promise<{ target: RepoTarget; password: string }> {
  const repo = policyRepository(deps, ref);
  const spec = deps.getStorage(repo.storage)?.spec;
  if (spec === undefined) throw new Failure("StorageConnectionNotFound", `BackupPolicy ${policyKey(ref)}: StorageConnection "${repo.storage}" (spec.storageRef.name) does not exist`);
  const password = await secretValue(deps, { namespace: ref.namespace, name: repo.passwordSecretName, key: "RESTIC_PASSWORD", what: `BackupPolicy ${policyKey(ref)}` });
  if (spec.type === "nfs" && spec.nfs?.server && spec.nfs.path) return { target: { type: "nfs", server: spec.nfs.server, exportPath: spec.nfs.path, path: repo.path }, password };
  if (spec.type === "s3" && spec.s3) return { target: await s3Target(deps, spec.s3, repo.path, repo.storage), password };
  throw new Failure("StorageInvalid", `StorageConnection ${repo.storage}: spec.type must be nfs (with nfs.server and nfs.path) or s3 (with spec.s3)`);
}

function failureOf(err: unknown): SourceFailure {
  if (err instanceof Failure) return err.failure;
  if (isResticRepoError(err)) return { reason: err.code, message: err.message };
  return { reason: "RepositoryError", message: err instanceof Error ? err.message : String(err) };
}

interface Handle {
  readonly signature: string;
  readonly repo: Promise<Repository>;
  readonly backend: Promise<Backend>;
}

/** The repositories of every policy, and their disk caches' pending writes. */
export interface RepoSources extends SnapshotSources {
  /** Resolves when every open repository's disk cache holds its last listing (for a shutdown). */
  flushCaches(): Promise<void>;
}

export function createRepoSources(deps: RepoSourcesDeps): RepoSources {
  const handles = new Map<string, Handle>();
  const now = (): number => (deps.clock ?? Date).now();
  let lastSweep = now();

  /** Removes the cache files and stored keys of repositories no handle uses (at most hourly, in the background). */
  function maybeSweep(): void {
    const { cacheDir: dir, keyStore: store } = deps;
    if ((dir === undefined && store?.sweep === undefined) || now() - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = now();
    void Promise.allSettled([...handles.values()].map((h) => h.repo)).then(async (repos) => {
      const sweep = { keep: new Set(repos.flatMap((r) => (r.status === "fulfilled" ? cacheFilesOf(r.value) : []))), now: now(), olderThanMs: SWEEP_OLDER_THAN_MS };
      const files = dir === undefined ? [] : await sweepCacheDir({ dir, ...sweep });
      if (files.length > 0) deps.log.info({ cacheDir: dir, removed: files.length }, "unused cache files removed");
      const keys = await (store?.sweep?.(sweep) ?? Promise.resolve([])).catch((err: unknown) => {
        deps.log.warn({ error: err instanceof Error ? err.message : String(err) }, "unused stored keys not removed");
        return [];
      });
      if (keys.length > 0) deps.log.info({ removed: keys.length }, "unused stored keys removed");
    });
  }

  async function repository(ref: PolicyRef): Promise<Repository> {
    const { target, password } = await resolveTarget(deps, ref);
    const signature = createHash("sha256").update(JSON.stringify(target)).update("\n").update(password).digest("hex");
    const key = policyKey(ref);
    const existing = handles.get(key);
    if (existing?.signature === signature) return existing.repo;
    closeBackend(existing?.backend);
    const backend = Promise.resolve().then(() => deps.backend(target));
    const cache = { ...(deps.cacheDir === undefined ? {} : { cacheDir: deps.cacheDir }), ...(deps.keyStore === undefined ? {} : { keyStore: deps.keyStore }) };
    const pool = deps.decodePool === undefined ? {} : { decodePool: deps.decodePool };
    const repo = backend.then((b) => openRepository({ backend: b, password, snapshotCache: new Map(), ...cache, ...pool, log: deps.log }));
    handles.set(key, { signature, repo, backend });
    return repo;
  }

  function drop(ref: PolicyRef): void {
    const key = policyKey(ref);
    closeBackend(handles.get(key)?.backend);
    handles.delete(key);
  }

  return {
    async policies() {
      const refs = deps.listPolicies().filter(hasRepository).map((p) => ({ namespace: p.metadata?.namespace ?? "", name: p.metadata?.name ?? "" }));
      for (const key of handles.keys()) if (!refs.some((r) => policyKey(r) === key)) drop(parseKey(key));
      maybeSweep();
      return refs;
    },
    async list(ref, onBatch): Promise<SourceResult> {
      try {
        const repo = await repository(ref);
        const listing = await repo.listSnapshots(onBatch === undefined ? undefined : (snapshots) => onBatch({ repositoryId: repo.id, snapshots }));
        return { ok: true, repositoryId: repo.id, snapshots: listing.snapshots, errors: listing.errors };
      } catch (err) {
        drop(ref);
        return { ok: false, error: failureOf(err) };
      }
    },
    async flushCaches() {
      const repos = [...handles.values()].map((h) => h.repo.then((r) => r.flushCache(), () => undefined));
      await Promise.all(repos);
    },
    async forget(ref, resticId) {
      try {
        await (await repository(ref)).forgetSnapshot(resticId);
      } catch (err) {
        drop(ref);
        throw new Error(failureOf(err).message, { cause: err });
      }
    },
  };
}

function parseKey(key: string): PolicyRef {
  const slash = key.indexOf("/");
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

function closeBackend(backend: Promise<Backend> | undefined): void {
  backend?.then(
    (b) => (b as Backend & { close?: () => void }).close?.(),
    () => undefined,
  );
}
