/**
 * Minimal HTTPS client for readiness probes against kube-apiserver with a client certificate.
 * @module
 */
import { request } from "node:https";

export interface TlsIdentity {
  readonly caPem: string;
  readonly certPem?: string;
  readonly keyPem?: string;
}

export interface HttpResult {
  readonly status: number;
  readonly body: string;
}

export interface HttpsRequest {
  readonly method?: string;
  readonly body?: string;
  readonly timeoutMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** One HTTPS request; resolves with status and body, rejects on network/TLS errors and timeout. */
export function httpsRequest(url: string, tls: TlsIdentity, req: HttpsRequest = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const r = request(
      url,
      {
        method: req.method ?? "GET",
        ca: tls.caPem,
        cert: tls.certPem,
        key: tls.keyPem,
        headers: { accept: "application/json", ...req.headers },
        timeout: req.timeoutMs ?? 5000,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    r.on("timeout", () => r.destroy(new Error(`${url}: no answer within ${req.timeoutMs ?? 5000} ms`)));
    r.on("error", reject);
    r.end(req.body);
  });
}
