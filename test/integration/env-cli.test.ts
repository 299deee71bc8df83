// `node test/env/cli.ts up` brings up the sandbox's control plane and S3 server, reports how to
// reach them, and Ctrl-C takes every process down.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseUpArgs } from "../env/cli.ts";
import { inheritedEnv } from "../env/config.ts";
import { groupMembers } from "../env/procfs.ts";
import { tempDir, tools } from "../env/testing.ts";
import { waitFor } from "../env/wait.ts";

const cli = fileURLToPath(new URL("../env/cli.ts", import.meta.url));

describe("parseUpArgs", () => {
  const cases = [
    { argv: ["up", "--dir", "/x"], want: { dir: "/x", bucket: "backups", controllerManager: true, s3: true } },
    { argv: ["up", "--no-controller-manager", "--no-s3", "--bucket", "b"], want: { dir: "/d", bucket: "b", controllerManager: false, s3: false } },
  ];
  for (const tc of cases) it(tc.argv.join(" "), () => assert.deepEqual(parseUpArgs(tc.argv, "/d"), tc.want));
  it("rejects another command", () => assert.throws(() => parseUpArgs(["down"], "/d"), /command "down" is not supported; expected "up"/));
});

describe("test/env/cli.ts up", () => {
  const dir = tempDir("cli");
  after(() => dir.remove());

  it("starts the sandbox services, and SIGINT stops them all", async () => {
    const child = spawn(process.execPath, [cli, "up", "--dir", dir.path], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    try {
      await waitFor(async () => stderr.includes("ready"), {
        what: "cli ready",
        timeoutMs: 90_000,
        abort: once(child, "exit").then(() => `cli exited: ${stderr}`),
      });
      const out = JSON.parse(stdout) as { env: Record<string, string>; processes: { name: string; pid: number }[] };
      assert.deepEqual(JSON.parse(readFileSync(join(dir.path, "env.json"), "utf8")), out);
      assert.equal(statSync(join(dir.path, "env.sh")).mode & 0o777, 0o600);
      assert.ok(out.env.AWS_ACCESS_KEY_ID && out.env.PW_S3_ENDPOINT?.startsWith("http://127.0.0.1:"));
      const ns = spawnSync(tools.kubectl, ["get", "ns", "default", "-o", "name"], { env: { ...inheritedEnv(), KUBECONFIG: out.env.KUBECONFIG }, encoding: "utf8" });
      assert.equal(ns.stdout.trim(), "namespace/default", ns.stderr);
      assert.deepEqual(out.processes.map((p) => p.name).sort(), ["etcd", "kube-apiserver", "kube-controller-manager", "versitygw"]);
      child.kill("SIGINT");
      const [code] = (await once(child, "exit")) as [number | null];
      assert.equal(code, 130);
      for (const p of out.processes) assert.deepEqual(groupMembers(p.pid), [], `${p.name} left processes`);
      assert.ok(existsSync(join(dir.path, "s3", "data", "backups")), "bucket directory kept");
    } finally {
      child.kill("SIGKILL");
    }
  });
});
