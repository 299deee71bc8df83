/**
 * Webhook throughput and latency: AdmissionReviews per second and p99 on loopback, the
 * server pinned to one core (taskset), autocannon as the load generator on the other.
 * Usage: node bench/webhook.ts [--seconds 10] [--connections 8]
 * Bar (DESIGN §5): >= 3,000 reviews/s on one core, p99 <= 5 ms.
 * @module
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { generateCA, issueCertificate } from "../certs/certificates.ts";
import { policyObject, review } from "../webhook/fixtures.ts";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "10" }, connections: { type: "string", default: "8" } } });
const ca = await generateCA("bench-ca");
const serving = await issueCertificate({ ca, commonName: "localhost", ipAddresses: ["127.0.0.1"], usage: "server" });

const server = spawn("taskset", ["-c", "0", process.execPath, new URL("./webhook-server.ts", import.meta.url).pathname], {
  env: { ...process.env, BENCH_CERT: serving.certPem, BENCH_KEY: serving.keyPem },
  stdio: ["ignore", "pipe", "inherit"],
});
const [line] = (await once(server.stdout, "data")) as [Buffer];
const { port } = JSON.parse(line.toString()) as { port: number };

const valid = { retention: { keepLast: 7 }, mode: "hot", type: "volume" };
let n = 0;
/** A schedule not seen before on every request (defeats the cron memo: the worst case). */
const freshSchedule = (): string => JSON.stringify(review({ object: policyObject({ ...valid, schedule: `${n % 60} ${Math.floor(n++ / 60) % 24} ${1 + (Math.floor(n / 1440) % 28)} * *` }) }));

const scenarios = [
  { name: "mutate BackupPolicy (defaults + patch)", path: "/mutate", body: () => JSON.stringify(review()) },
  { name: "validate BackupPolicy (cron, lookups)", path: "/validate", body: () => JSON.stringify(review({ object: policyObject({ ...valid, schedule: "0 2 * * *" }) })) },
  { name: "validate, a new schedule every review", path: "/validate", body: freshSchedule },
];

const rows: string[] = [];
for (const s of scenarios) {
  const result = await autocannon({
    url: `https://127.0.0.1:${port}${s.path}`,
    method: "POST",
    headers: { "content-type": "application/json" },
    requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, body: s.body() }) }],
    connections: Number(values.connections),
    duration: Number(values.seconds),
    tlsOptions: { rejectUnauthorized: false },
  } as autocannon.Options);
  const ok = result.non2xx === 0 && result.errors === 0;
  rows.push(`| ${s.name} | ${Math.round(result.requests.average)} | ${result.latency.p50} | ${result.latency.p99} | ${ok ? "ok" : `errors ${result.errors}, non-2xx ${result.non2xx}`} |`);
}
server.kill("SIGTERM");
console.log(`webhook over HTTPS, server on 1 core, ${values.connections} connections, ${values.seconds}s per scenario`);
console.log("| scenario | reviews/s | p50 ms | p99 ms | |\n|---|---|---|---|---|");
console.log(rows.join("\n"));
