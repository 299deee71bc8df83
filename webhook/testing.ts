/**
 * Starts the webhook app on a loopback port for in-process HTTP tests and the benchmark.
 * @module
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { ValidationContext } from "../api/index.ts";
import { fixedContext } from "../api/validate/testing.ts";
import { createLogger } from "../kube/log.ts";
import type { Express } from "express";
import { createApp } from "./app.ts";

export interface TestServer {
  readonly url: string;
  post(path: string, body: string | object, contentType?: string): Promise<{ status: number; json: Record<string, unknown> }>;
  close(): Promise<void>;
}

export const testLookups = (): ValidationContext =>
  fixedContext({ storage: ["nas"], policies: ["team-a/pw-backup-app"], workloads: { "team-a/Deployment/app": { replicas: 1 } } });

/** The production app with fixed lookups and a fixed repository suffix. */
export function testApp(lookups: ValidationContext = testLookups(), cluster = "test"): Express {
  return createApp({
    log: createLogger({ name: "webhook-test", level: "silent" }),
    ready: () => true,
    defaulting: { cluster, randomSuffix: () => "abcd1234" },
    lookups,
  });
}

export async function startTestServer(lookups: ValidationContext = testLookups()): Promise<TestServer> {
  const app = testApp(lookups);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async post(path, body, contentType = "application/json") {
      const res = await fetch(url + path, { method: "POST", headers: { "content-type": contentType }, body: typeof body === "string" ? body : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
