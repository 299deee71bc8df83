/**
 * Runs the real kubectl against a test control plane.
 * @module
 */
import { spawn } from "node:child_process";

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface KubectlOptions {
  /** Text written to kubectl's stdin (for `apply -f -`). */
  readonly input?: string;
  /** Another kubeconfig (e.g. a non-admin user's from `userKubeconfig`). */
  readonly kubeconfig?: string;
  /** Kill kubectl after this long (default 60 s); the result then has code 124. */
  readonly timeoutMs?: number;
  /** kubectl's whole environment (default: this process's), e.g. with a PATH holding plugins. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface KubectlTarget {
  readonly kubectl: string;
  readonly kubeconfig: string;
  /** Discovery/HTTP cache directory, private to one control plane. */
  readonly cacheDir: string;
}

/** Runs `kubectl --kubeconfig … --cache-dir … <args>`; never rejects for a non-zero exit. */
export function runKubectl(target: KubectlTarget, args: readonly string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
  const fullArgs = [`--kubeconfig=${opts.kubeconfig ?? target.kubeconfig}`, `--cache-dir=${target.cacheDir}`, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(target.kubectl, fullArgs, {
      stdio: ["pipe", "pipe", "pipe"],
      env: opts.env ? { ...opts.env } : undefined,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 60_000);
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`kubectl: could not run ${target.kubectl}: ${e.message}; expected kubectl on PATH or PW_KUBECTL`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString("utf8") + (timedOut ? `\nkubectl ${args.join(" ")}: killed after timeout` : "");
      resolve({ code: timedOut ? 124 : (code ?? 1), stdout: Buffer.concat(out).toString("utf8"), stderr });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

/** Throws (with kubectl's stderr) unless the command succeeded; returns stdout. */
export function expectSuccess(args: readonly string[], result: KubectlResult): string {
  if (result.code !== 0) {
    throw new Error(`kubectl ${args.join(" ")} failed with exit code ${result.code}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}
