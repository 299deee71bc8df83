/**
 * The webhook as the benchmark runs it: the production app over HTTPS with in-memory lookups,
 * in its own process (pinned to one core by bench/webhook.ts). Prints its port when ready.
 * @module
 */
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { testApp, testLookups } from "../webhook/testing.ts";

const [certPem, keyPem] = [process.env["BENCH_CERT"] ?? "", process.env["BENCH_KEY"] ?? ""];
const server = createServer({ cert: certPem, key: keyPem }, testApp(testLookups(), "bench"));
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: (server.address() as AddressInfo).port })));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
