/**
 * A real control plane with our CRDs and the real aggregated Snapshot API (`apiserver/main.ts`
 * as a supervised child process) registered as an APIService with a caBundle; optionally an S3
 * server and kube-controller-manager. The API server runs as its ServiceAccount's user with
 * exactly the RBAC of the manifests ({@link snapshotApiManifests}), so what they allow it is
 * tested too.
 *
 * Repositories on "NFS" live under `nfsRoot` (the server's NFS_MOUNT_ROOT), at
 * `<nfsRoot>/<server>/<export path>/<repository path>`, as the deployment mounts them.
 * @module
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import type { IncomingHttpHeaders } from "node:http";
import { Agent, request as httpsRequest } from "node:https";
import { join } from "node:path";
import { REPO, yamlIn } from "./repo.ts";
import { stringify } from "yaml";
import { API_VERSION, GROUP, KEY_SECRET, SNAPSHOT_GROUP, SYSTEM_NAMESPACE, VERSION } from "../../api/group.ts";
import { startControlPlane } from "../env/control-plane.ts";
import type { ControlPlane } from "../env/control-plane.ts";
import { installCRDs, readManifests, registerAPIService, writeLocalServingCert } from "../env/register.ts";
import { httpsRequest as httpsGet } from "../env/http.ts";
import { freePort } from "../env/ports.ts";
import { startS3Server } from "../env/s3.ts";
import type { S3Server } from "../env/s3.ts";
import { startProcess } from "../env/supervisor.ts";
import type { SupervisedProcess } from "../env/supervisor.ts";
import { tempDir, tools } from "../env/testing.ts";
import { waitFor } from "../env/wait.ts";
import { localBackend } from "../../restic/backend.ts";
import { findMasterKey } from "../../restic/keys.ts";
import { writeSnapshotFiles } from "../../restic/testing.ts";
import { runRestic } from "./restic-cli.ts";
import type { ResticCliOptions } from "./restic-cli.ts";


/** Where the aggregated API is registered. */
export const SNAPSHOT_SERVICE = { serviceName: "podwarden-snapshots-api", namespace: SYSTEM_NAMESPACE } as const;
/**
 * The Kubernetes user the API server runs as (CN of its client certificate): the user name of
 * the manifests' ServiceAccount podwarden-system/podwarden-snapshots, in its groups.
 */
export const SNAPSHOT_SERVER_USER = `system:serviceaccount:${SYSTEM_NAMESPACE}:podwarden-snapshots`;
const SERVICE_ACCOUNT_GROUPS = ["system:serviceaccounts", `system:serviceaccounts:${SYSTEM_NAMESPACE}`];
export const SNAPSHOT_APISERVICE = `${VERSION}.${SNAPSHOT_GROUP}`;

type Obj = Record<string, unknown>;

const RBAC_MANIFEST = "manifests/rbac/snapshots-apiserver.yaml";
const DEPLOY_MANIFEST = "manifests/deploy/snapshots-apiserver.yaml";

/** The objects of one of the repository's manifest files. */
const readManifest = (path: string): Obj[] => readManifests([join(REPO, path)]);

/**
 * What the manifests give the Snapshot API server (its ServiceAccount, RBAC and the empty key
 * Secret), read from manifests/rbac/snapshots-apiserver.yaml and the key Secret of
 * manifests/deploy/snapshots-apiserver.yaml. The server runs as that ServiceAccount's user name
 * (a client certificate, {@link SNAPSHOT_SERVER_USER}), which RBAC matches like its token, so the
 * tests hold the manifests' own permissions to what the server does.
 */
export function snapshotApiManifests(): Obj[] {
  const isKeySecret = (o: Obj): boolean => o["kind"] === "Secret" && (o["metadata"] as { name?: string } | undefined)?.name === KEY_SECRET;
  return [...readManifest(RBAC_MANIFEST), ...readManifest(DEPLOY_MANIFEST).filter(isKeySecret)];
}

/**
 * The Node options the manifests' Deployment runs the server with (its container's arguments
 * before the program), so that every server the tests, the bench and the sandbox start runs as
 * a pod does.
 */
export function snapshotApiNodeOptions(): string[] {
  const deployment = readManifest(DEPLOY_MANIFEST).find((o) => o["kind"] === "Deployment") as
    | { spec: { template: { spec: { containers: { name: string; args?: string[] }[] } } } }
    | undefined;
  const args = deployment?.spec.template.spec.containers.find((c) => c.name === "apiserver")?.args;
  if (args === undefined) throw new Error(`${DEPLOY_MANIFEST}: no Deployment with an apiserver container and its args`);
  return args.filter((a) => a.startsWith("--"));
}

export interface SnapshotEnvOptions {
  /** Also run kube-controller-manager (namespace deletion, GC). */
  readonly controllerManager?: boolean;
  /** Also start an S3 server (versitygw). */
  readonly s3?: boolean;
  /** The server's periodic refresh (default 600 s, so tests see the event-driven refresh). */
  readonly refreshIntervalSeconds?: number;
  readonly logLevel?: "debug" | "info" | "warn";
  /** The server's program: apiserver/main.ts unless given (a bundle's main.js, scripts/bundle.ts). */
  readonly entry?: string;
}

export interface SnapshotEnv {
  readonly cp: ControlPlane;
  readonly s3: S3Server | undefined;
  readonly dir: string;
  /** The server's NFS_MOUNT_ROOT. */
  readonly nfsRoot: string;
  readonly server: SupervisedProcess;
  readonly port: number;
  /** CA of the server's serving certificate. */
  readonly caPem: string;
  /** Another server process (same configuration, plus `env`) on `port`, e.g. to time a cold start; not registered. */
  spawnServer(opts: SpawnOptions): Promise<SupervisedProcess>;
  /** `kubectl apply -f -` of these objects (admin). */
  apply(objects: readonly Obj[]): Promise<void>;
  /** The API server's log so far (pino JSON lines). */
  serverLog(): string;
  logTails(lines?: number): string;
  stop(): Promise<void>;
}

interface ServerLauncher {
  /** CA of the serving certificate (`<service>.<namespace>.svc`, localhost, 127.0.0.1). */
  readonly caPem: string;
  spawn(opts: SpawnOptions): Promise<SupervisedProcess>;
}

/** Another server process: its port, its name (for its log file), and environment added to the usual. */
export interface SpawnOptions {
  readonly port: number;
  readonly name: string;
  readonly env?: Readonly<Record<string, string>>;
  /** The program to run: apiserver/main.ts unless given (the bundle's main.js, scripts/bundle.ts). */
  readonly entry?: string;
}

/** Serving certificate files and the server's kubeconfig, made once; each spawn is a new process. */
async function serverLauncher(cp: ControlPlane, dir: string, opts: SnapshotEnvOptions & { nfsRoot: string }): Promise<ServerLauncher> {
  const tls = await writeLocalServingCert(join(dir, "tls"), SNAPSHOT_SERVICE);
  const { certFile, keyFile } = tls;
  const kubeconfig = await cp.userKubeconfig({ name: SNAPSHOT_SERVER_USER, groups: SERVICE_ACCOUNT_GROUPS });
  const nodeOptions = snapshotApiNodeOptions();
  return {
    caPem: tls.caPem,
    spawn: ({ port, name, env, entry }) =>
      startProcess({
        name,
        command: process.execPath,
        args: [...nodeOptions, entry ?? join(REPO, "apiserver", "main.ts")],
        env: {
          KUBECONFIG: kubeconfig,
          PORT: String(port),
          BIND_ADDRESS: "127.0.0.1",
          TLS_CERT_FILE: certFile,
          TLS_KEY_FILE: keyFile,
          NFS_MOUNT_ROOT: opts.nfsRoot,
          LOG_LEVEL: opts.logLevel ?? "info",
          REFRESH_INTERVAL_SECONDS: String(opts.refreshIntervalSeconds ?? 600),
          POD_NAMESPACE: SYSTEM_NAMESPACE,
          KEY_SECRET_NAME: KEY_SECRET,
          ...env,
        },
        logPath: join(dir, "logs", `${name}.log`),
      }),
  };
}

/**
 * Right after a CRD is Established, kube-apiserver may still answer its lists with 429 "storage
 * is (re)initializing"; kube/informer.ts would retry after a backoff, so the server is started
 * only once every kind lists (tests then see it ready without that delay).
 */
async function untilCrdsServe(cp: ControlPlane): Promise<void> {
  for (const plural of ["storageconnections", "backuppolicies", "backupruns"]) {
    await waitFor(async () => (await cp.get(`/apis/${GROUP}/${VERSION}/${plural}?limit=1`)).status === 200, { what: `kube-apiserver serving ${plural}`, timeoutMs: 60_000, intervalMs: 200 });
  }
}

export interface SnapshotApi {
  readonly server: SupervisedProcess;
  readonly port: number;
  /** CA of the server's serving certificate. */
  readonly caPem: string;
  spawn(opts: SpawnOptions): Promise<SupervisedProcess>;
}

/**
 * Runs apiserver/main.ts (or `opts.entry`) against `cp` as its ServiceAccount's user with the
 * manifests' RBAC, registers it as
 * an APIService, and waits until it is Available and its first listing is done.
 */
export async function startSnapshotApi(cp: ControlPlane, opts: SnapshotEnvOptions & { dir: string; nfsRoot: string }): Promise<SnapshotApi> {
  await untilCrdsServe(cp);
  const objects = [{ apiVersion: "v1", kind: "Namespace", metadata: { name: SNAPSHOT_SERVICE.namespace } }, ...snapshotApiManifests()];
  await cp.kubectlOk(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }) });
  const launcher = await serverLauncher(cp, opts.dir, opts);
  const port = await freePort();
  const server = await launcher.spawn({ port, name: "snapshots-api", ...(opts.entry === undefined ? {} : { entry: opts.entry }) });
  const exited = server.exited.then((e) => `snapshots-api exited (code ${e.code}, signal ${e.signal}): ${server.tail(20)}`);
  try {
    await Promise.race([
      registerAPIService(cp, { group: SNAPSHOT_GROUP, version: VERSION, port, caPem: launcher.caPem, ...SNAPSHOT_SERVICE, timeoutSeconds: 90 }),
      exited.then((why) => Promise.reject(new Error(why))),
    ]);
    const readyz = async (): Promise<boolean> => (await httpsGet(`https://localhost:${port}/readyz`, { caPem: launcher.caPem })).status === 200;
    await waitFor(readyz, { what: "snapshot API /readyz (first listing done)", timeoutMs: 60_000, intervalMs: 100, abort: exited });
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { server, port, caPem: launcher.caPem, spawn: launcher.spawn };
}

/** Starts everything and waits until the APIService is Available and the first listing is done. */
export async function startSnapshotEnv(opts: SnapshotEnvOptions = {}): Promise<SnapshotEnv> {
  const tmp = tempDir("snapshots");
  const dir = tmp.path;
  const nfsRoot = join(dir, "nfs");
  mkdirSync(nfsRoot, { recursive: true });
  const [cp, s3] = await Promise.all([
    startControlPlane({ dir: join(dir, "cp"), binDir: tools.binDir, kubectl: tools.kubectl, controllerManager: opts.controllerManager ?? false, timeoutMs: 120_000 }),
    opts.s3 ? startS3Server({ dir: join(dir, "s3"), binDir: tools.binDir }) : Promise.resolve(undefined),
  ]);
  const apply = async (objects: readonly Obj[]): Promise<void> => {
    await cp.kubectlOk(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }) });
  };
  let api: SnapshotApi | undefined;
  const logTails = (lines?: number): string => [cp.logTails(lines), s3?.logTails(lines) ?? "", api ? `== snapshots-api (${api.server.logPath}) ==\n${api.server.tail(lines)}` : ""].join("\n");
  const stop = async (): Promise<void> => {
    await api?.server.stop();
    await s3?.stop();
    await cp.stop();
    tmp.remove();
  };
  try {
    await installCRDs(cp, yamlIn("manifests/crds"));
    api = await startSnapshotApi(cp, { ...opts, dir, nfsRoot });
    const server = api.server;
    return {
      cp,
      s3,
      dir,
      nfsRoot,
      server,
      port: api.port,
      caPem: api.caPem,
      spawnServer: api.spawn,
      apply,
      serverLog: () => readFileSync(server.logPath, "utf8"),
      logTails,
      stop,
    };
  } catch (err) {
    const tails = logTails(40);
    await stop();
    throw new Error(`startSnapshotEnv: ${(err as Error).message}\n${tails}`, { cause: err });
  }
}

// ---- objects -------------------------------------------------------------------------------

export function namespace(name: string): Obj {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name } };
}

export function nfsStorage(name: string, nfs: { server: string; path: string }): Obj {
  return { apiVersion: API_VERSION, kind: "StorageConnection", metadata: { name }, spec: { type: "nfs", nfs } };
}

export interface S3StorageInput {
  readonly endpoint: string;
  readonly bucket: string;
  readonly prefix?: string;
  readonly credentials: { readonly namespace: string; readonly name: string };
}

export function s3Storage(name: string, s3: S3StorageInput): Obj {
  const { credentials, ...rest } = s3;
  return { apiVersion: API_VERSION, kind: "StorageConnection", metadata: { name }, spec: { type: "s3", s3: { ...rest, credentialsSecretRef: credentials } } };
}

export function secret(ns: string, name: string, data: Readonly<Record<string, string>>): Obj {
  return { apiVersion: "v1", kind: "Secret", metadata: { name, namespace: ns }, stringData: data };
}

export interface PolicyInput {
  readonly namespace: string;
  readonly name: string;
  readonly storage: string;
  readonly repoPath: string;
  readonly passwordSecret: string;
}

export function backupPolicy(p: PolicyInput): Obj {
  return {
    apiVersion: API_VERSION,
    kind: "BackupPolicy",
    metadata: { name: p.name, namespace: p.namespace },
    spec: {
      workloadRef: { kind: "Deployment", name: p.name },
      storageRef: { name: p.storage },
      repository: { path: p.repoPath, passwordSecretName: p.passwordSecret },
    },
  };
}

export function backupRun(ns: string, name: string, policy: string): Obj {
  return { apiVersion: API_VERSION, kind: "BackupRun", metadata: { name, namespace: ns }, spec: { policyRef: { name: policy } } };
}

export interface RunStatusInput {
  readonly phase: "Pending" | "Running" | "Succeeded" | "Failed";
  /** One entry per PVC the run expects, with the restic snapshot ID once it has one. */
  readonly volumes: readonly { readonly pvc: string; readonly phase: "Pending" | "Running" | "Succeeded" | "Failed"; readonly snapshotId?: string }[];
}

/** `kubectl patch backuprun … --subresource=status --type=merge`. */
export async function setRunStatus(cp: ControlPlane, ref: { namespace: string; name: string }, status: RunStatusInput): Promise<void> {
  const patch = JSON.stringify({ status });
  await cp.kubectlOk(["patch", "backuprun", ref.name, "-n", ref.namespace, "--subresource=status", "--type=merge", "-p", patch]);
}

/** The local directory of an NFS repository, as the server mounts it. */
export function nfsRepoDir(env: Pick<SnapshotEnv, "nfsRoot">, nfs: { server: string; path: string }, repoPath: string): string {
  return join(env.nfsRoot, nfs.server, nfs.path, repoPath);
}

/** restic CLI options for a repository in this env's S3 server (`prefix/repoPath` in `bucket`). */
export function s3Restic(s3: S3Server, where: { bucket: string; prefix?: string; repoPath: string; password: string }): ResticCliOptions {
  const key = where.prefix ? `${where.prefix}/${where.repoPath}` : where.repoPath;
  return { repo: s3.resticRepository(where.bucket, key), password: where.password, env: s3.clientEnv() };
}

/** Objects as YAML, for readable failure messages. */
export const toYaml = (o: unknown): string => stringify(o);

// ---- streaming kubectl ---------------------------------------------------------------------

export interface KubectlStream {
  /** Every stdout line so far. */
  readonly lines: readonly string[];
  /** Resolves with the first line (already printed or still to come) matching `re`. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(): void;
}

/** Runs a long kubectl command (`get -w`) as admin (or `kubeconfig`), reading stdout line by line. */
export function streamKubectl(cp: ControlPlane, args: readonly string[], opts: { kubeconfig?: string } = {}): KubectlStream {
  const cacheDir = join(cp.dir, "kubectl-stream-cache");
  const child = spawn(tools.kubectl, [`--kubeconfig=${opts.kubeconfig ?? cp.kubeconfigPath}`, `--cache-dir=${cacheDir}`, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let partial = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  child.stdout.on("data", (c: Buffer) => {
    partial += c.toString("utf8");
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    for (const w of waiters) w();
  });
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  return {
    lines,
    waitForLine: (re, timeoutMs = 30_000) =>
      new Promise<string>((resolve, reject) => {
        const check = (): void => {
          const hit = lines.find((l) => re.test(l));
          if (hit === undefined) return;
          cleanup();
          resolve(hit);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`kubectl ${args.join(" ")}: no line matching ${String(re)} within ${timeoutMs} ms; got:\n${lines.join("\n")}\nstderr: ${stderr}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    stop: () => void child.kill("SIGTERM"),
  };
}

// ---- talking to the server as the aggregator does -----------------------------------------

export interface DirectResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface DirectClient {
  /** One request over a kept-alive TLS connection, as kube-apiserver's aggregator proxies it. */
  request(path: string, opts?: { readonly accept?: string; readonly method?: string }): Promise<DirectResponse>;
  close(): void;
}

/** The Accept header `kubectl get` sends (and the aggregator forwards). */
export const TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

/**
 * A client that calls a Snapshot API server directly with kube-apiserver's front-proxy client
 * certificate and `X-Remote-User`/`X-Remote-Group` (default admin, system:masters).
 */
export function aggregatorClient(env: Pick<SnapshotEnv, "cp" | "caPem" | "port">, opts: { port?: number; user?: string; groups?: readonly string[] } = {}): DirectClient {
  const fp = env.cp.frontProxy;
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: env.caPem, cert: fp.clientCertPem, key: fp.clientKeyPem });
  const headers = { "X-Remote-User": opts.user ?? "admin", "X-Remote-Group": [...(opts.groups ?? ["system:masters"])] };
  return {
    request: (path, o = {}) =>
      new Promise<DirectResponse>((resolve, reject) => {
        const req = httpsRequest(
          { host: "127.0.0.1", port: opts.port ?? env.port, servername: "localhost", path, method: o.method ?? "GET", agent, headers: { ...headers, Accept: o.accept ?? "application/json" } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
            res.on("error", reject);
          },
        );
        req.on("error", reject);
        req.end();
      }),
    close: () => agent.destroy(),
  };
}

// ---- big repositories, fast ------------------------------------------------------------------

export interface SyntheticSnapshotsInput {
  /** A local repository (made by restic) and its password. */
  readonly repo: ResticCliOptions;
  /** A snapshot restic made in it; its stored document is the template. */
  readonly templateId: string;
  readonly count: number;
  /** Tags and time of the i-th new snapshot (0-based). */
  readonly tags: (i: number) => readonly string[];
  readonly time: (i: number) => string;
  readonly version?: 1 | 2;
}

/**
 * Adds `count` snapshot files sealed with the repository's master key exactly as restic writes
 * them (same tree and summary as the template, new time and tags): thousands per second. Check
 * with `restic snapshots` that restic accepts them.
 */
export async function addSyntheticSnapshots(input: SyntheticSnapshotsInput): Promise<string[]> {
  const { stdout } = await runRestic(input.repo, ["cat", "snapshot", input.templateId, "--no-lock"]);
  const template = JSON.parse(stdout) as Record<string, unknown>;
  const key = await findMasterKey({ backend: localBackend(input.repo.repo), password: input.repo.password });
  const docs = Array.from({ length: input.count }, (_, i) => ({ ...template, time: input.time(i), tags: [...input.tags(i)], parent: input.templateId }));
  return writeSnapshotFiles({ root: input.repo.repo, key, version: input.version ?? 2, docs });
}
