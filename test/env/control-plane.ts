/**
 * A real Kubernetes control plane on loopback: etcd, kube-apiserver and optionally
 * kube-controller-manager, with generated certificates and an admin kubeconfig.
 * Several can run side by side (random ports, private directories).
 * @module
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../kube/log.ts";
import { issueCertificate } from "../../certs/certificates.ts";
import type { CertificateAndKey } from "../../certs/certificates.ts";
import { defaultBinDir } from "./config.ts";
import { apiserverArgs, controllerManagerArgs, etcdArgs } from "./control-plane-args.ts";
import { httpsRequest } from "./http.ts";
import type { TlsIdentity } from "./http.ts";
import { renderKubeconfig } from "./kubeconfig.ts";
import { expectSuccess, runKubectl } from "./kubectl.ts";
import type { KubectlOptions, KubectlResult } from "./kubectl.ts";
import { createControlPlanePki } from "./pki.ts";
import type { ControlPlanePki } from "./pki.ts";
import { freePorts } from "./ports.ts";
import { startProcess } from "./supervisor.ts";
import type { SupervisedProcess } from "./supervisor.ts";
import { waitFor } from "./wait.ts";

export interface ControlPlaneOptions {
  /** Private working directory: pki/, etcd/, logs/, admin.kubeconfig, users/. */
  readonly dir: string;
  /** Also run kube-controller-manager (GC, Jobs, namespaces, ServiceAccounts and their tokens). */
  readonly controllerManager?: boolean;
  readonly log?: Logger;
  /** Directory with etcd, kube-apiserver, kube-controller-manager (default `$PW_BIN`). */
  readonly binDir?: string;
  /** kubectl executable (default `kubectl` on PATH). */
  readonly kubectl?: string;
  /** Limit for each readiness wait (default 90 s). */
  readonly timeoutMs?: number;
}

export interface UserOptions {
  /** Becomes the certificate's CN, i.e. the Kubernetes user name. */
  readonly name: string;
  /** Certificate O= entries, i.e. the user's groups. */
  readonly groups?: readonly string[];
  readonly namespace?: string;
}

/** Seconds spent in each startup phase (cold start = `total`). */
export interface StartupTimings {
  readonly pki: number;
  readonly etcd: number;
  readonly apiserver: number;
  readonly controllerManager: number;
  readonly total: number;
}

export interface ControlPlane {
  readonly dir: string;
  /** Admin kubeconfig (client cert CN=admin, O=system:masters), credentials embedded. */
  readonly kubeconfigPath: string;
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  /** CA that signed kube-apiserver's serving certificate. */
  readonly caPem: string;
  /** CA kube-apiserver trusts for client certificates. */
  readonly clientCaPem: string;
  readonly adminClientCert: CertificateAndKey;
  /** What kube-apiserver presents to aggregated API servers (and the CA they must trust). */
  readonly frontProxy: { readonly caPem: string; readonly clientCertPem: string; readonly clientKeyPem: string };
  readonly serviceAccountIssuer: string;
  readonly etcdEndpoint: string;
  readonly timings: StartupTimings;
  readonly pki: ControlPlanePki;
  /** The running components (name, pid = process group id, log file). */
  readonly processes: readonly Pick<SupervisedProcess, "name" | "pid" | "logPath">[];
  kubectl(args: readonly string[], opts?: KubectlOptions): Promise<KubectlResult>;
  /** Like `kubectl`, but throws with stderr on a non-zero exit; returns stdout. */
  kubectlOk(args: readonly string[], opts?: KubectlOptions): Promise<string>;
  /** Writes a kubeconfig for a user authenticated by a client certificate; returns its path. */
  userKubeconfig(user: UserOptions): Promise<string>;
  /** Forgets kubectl's discovery cache (after new CRDs or APIServices). */
  invalidateDiscovery(): void;
  /** A GET against the API with admin credentials. */
  get(path: string): Promise<{ status: number; body: string }>;
  logTails(lines?: number): string;
  stop(): Promise<void>;
}

interface Ctx {
  readonly opts: ControlPlaneOptions;
  readonly binDir: string;
  readonly logsDir: string;
  readonly timeoutMs: number;
  readonly procs: SupervisedProcess[];
}

const PORT_CLASH = /address already in use/i;

const span = (fromMs: number, toMs: number): number => Math.round((toMs - fromMs) / 100) / 10;

async function start(ctx: Ctx, name: string, args: string[]): Promise<SupervisedProcess> {
  const proc = await startProcess({
    name,
    command: join(ctx.binDir, name),
    args,
    env: {},
    logPath: join(ctx.logsDir, `${name}.log`),
  });
  ctx.procs.push(proc);
  return proc;
}

function exitReason(proc: SupervisedProcess): Promise<string> {
  return proc.exited.then((e) => `${proc.name} exited (code ${e.code}, signal ${e.signal})`);
}

async function startEtcd(ctx: Ctx, clientPort: number, peerPort: number): Promise<string> {
  const dataDir = join(ctx.opts.dir, "etcd");
  const proc = await start(ctx, "etcd", etcdArgs({ dataDir, clientPort, peerPort }));
  const endpoint = `http://127.0.0.1:${clientPort}`;
  await waitFor(
    async () => {
      const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(2000) });
      return res.ok && ((await res.json()) as { health?: string }).health === "true";
    },
    { what: `etcd ${endpoint}/health`, timeoutMs: ctx.timeoutMs, abort: exitReason(proc) },
  );
  return endpoint;
}

async function waitApi(ctx: Ctx, proc: SupervisedProcess, get: (p: string) => Promise<{ status: number }>, path: string) {
  await waitFor(async () => (await get(path)).status === 200, {
    what: `kube-apiserver GET ${path}`,
    timeoutMs: ctx.timeoutMs,
    intervalMs: 200,
    abort: exitReason(proc),
  });
}

function logTailsOf(procs: readonly SupervisedProcess[], lines?: number): string {
  return procs.map((p) => `== ${p.name} (${p.logPath}) ==\n${p.tail(lines)}`).join("\n");
}

/** Starts etcd, kube-apiserver (and kube-controller-manager) and waits until they serve. */
export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const t0 = Date.now();
  mkdirSync(join(opts.dir, "logs"), { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const ctx: Ctx = {
      opts,
      binDir: opts.binDir ?? defaultBinDir(),
      logsDir: join(opts.dir, "logs"),
      timeoutMs: opts.timeoutMs ?? 90_000,
      procs: [],
    };
    try {
      return await boot(ctx, t0);
    } catch (err) {
      const tails = logTailsOf(ctx.procs);
      await Promise.all([...ctx.procs].reverse().map((p) => p.stop({ graceMs: 2000 })));
      // A port picked as free can be taken by another process before our component binds it.
      if (attempt < 3 && PORT_CLASH.test(tails)) {
        opts.log?.warn({ attempt }, "control plane port taken, retrying with new ports");
        rmSync(join(opts.dir, "etcd"), { recursive: true, force: true });
        continue;
      }
      throw new Error(`startControlPlane: ${(err as Error).message}\n${tails}`, { cause: err });
    }
  }
}

async function boot(ctx: Ctx, t0: number): Promise<ControlPlane> {
  const { opts } = ctx;
  const [[etcdPort = 0, peerPort = 0, apiPort = 0], pki] = await Promise.all([freePorts(3), createControlPlanePki(opts.dir)]);
  const tPki = Date.now();
  const etcdEndpoint = await startEtcd(ctx, etcdPort, peerPort);
  const tEtcd = Date.now();
  const withKcm = opts.controllerManager ?? false;
  const apiserver = await start(ctx, "kube-apiserver", apiserverArgs({ etcdPort, securePort: apiPort, files: pki.files, controllerManager: withKcm }));
  const server = `https://127.0.0.1:${apiPort}`;
  const admin: TlsIdentity = { caPem: pki.servingCa.certPem, certPem: pki.admin.certPem, keyPem: pki.admin.keyPem };
  const get = (path: string) => httpsRequest(`${server}${path}`, admin, { timeoutMs: 5000 });
  await waitApi(ctx, apiserver, get, "/readyz");
  await waitApi(ctx, apiserver, get, "/api/v1/namespaces/default");
  const tApi = Date.now();
  const kubeconfigPath = join(opts.dir, "admin.kubeconfig");
  writeFileSync(
    kubeconfigPath,
    renderKubeconfig({ server, caPem: pki.servingCa.certPem, userName: "admin", clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem }),
    { mode: 0o600 },
  );
  if (withKcm) {
    const kcm = await start(ctx, "kube-controller-manager", controllerManagerArgs({ kubeconfig: kubeconfigPath, files: pki.files }));
    await waitApi(ctx, kcm, get, "/api/v1/namespaces/default/serviceaccounts/default");
  }
  const tEnd = Date.now();
  const timings = {
    pki: span(t0, tPki),
    etcd: span(tPki, tEtcd),
    apiserver: span(tEtcd, tApi),
    controllerManager: withKcm ? span(tApi, tEnd) : 0,
    total: span(t0, tEnd),
  };
  opts.log?.info({ server, dir: opts.dir, timings }, "control plane ready");
  return assemble(ctx, { server, kubeconfigPath, etcdEndpoint, pki, get, timings });
}

interface Parts {
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly etcdEndpoint: string;
  readonly pki: ControlPlanePki;
  readonly get: (path: string) => Promise<{ status: number; body: string }>;
  readonly timings: StartupTimings;
}

function assemble(ctx: Ctx, p: Parts): ControlPlane {
  const { pki } = p;
  const cacheDir = join(ctx.opts.dir, "kubectl-cache");
  const target = { kubectl: ctx.opts.kubectl ?? "kubectl", kubeconfig: p.kubeconfigPath, cacheDir };
  const kubectl = (args: readonly string[], o?: KubectlOptions) => runKubectl(target, args, o);
  let stopped: Promise<void> | undefined;
  return {
    dir: ctx.opts.dir,
    kubeconfigPath: p.kubeconfigPath,
    server: p.server,
    caPem: pki.servingCa.certPem,
    clientCaPem: pki.clientCa.certPem,
    adminClientCert: pki.admin,
    frontProxy: { caPem: pki.frontProxyCa.certPem, clientCertPem: pki.frontProxyClient.certPem, clientKeyPem: pki.frontProxyClient.keyPem },
    serviceAccountIssuer: p.server,
    etcdEndpoint: p.etcdEndpoint,
    timings: p.timings,
    pki,
    processes: ctx.procs.map((x) => ({ name: x.name, pid: x.pid, logPath: x.logPath })),
    kubectl,
    kubectlOk: async (args, o) => expectSuccess(args, await kubectl(args, o)),
    userKubeconfig: async (user) => {
      const cert = await issueCertificate({ ca: pki.clientCa, commonName: user.name, organizations: user.groups, usage: "client" });
      const path = join(ctx.opts.dir, "users", `${user.name.replace(/[^A-Za-z0-9_.-]/g, "_")}.kubeconfig`);
      mkdirSync(join(ctx.opts.dir, "users"), { recursive: true });
      const yaml = renderKubeconfig({ server: p.server, caPem: pki.servingCa.certPem, userName: user.name, clientCertPem: cert.certPem, clientKeyPem: cert.keyPem, namespace: user.namespace });
      writeFileSync(path, yaml, { mode: 0o600 });
      return path;
    },
    invalidateDiscovery: () => rmSync(cacheDir, { recursive: true, force: true }),
    get: p.get,
    logTails: (lines) => logTailsOf(ctx.procs, lines),
    stop: () =>
      (stopped ??= (async () => {
        for (const proc of [...ctx.procs].reverse()) await proc.stop();
        ctx.opts.log?.info({ dir: ctx.opts.dir }, "control plane stopped");
      })()),
  };
}
