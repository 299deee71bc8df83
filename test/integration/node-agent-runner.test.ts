// The node agent's pod runner on its own (no API server): real processes, both isolation
// modes, restarts, deadlines and init failures, with the status writes captured.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { V1Pod } from "@kubernetes/client-node";
import { createLogger } from "../../kube/log.ts";
import { inheritedEnv } from "../env/config.ts";
import { tempDir } from "../env/testing.ts";
import { MountPoints, probeIsolation } from "../node-agent/launch.ts";
import type { Isolation } from "../node-agent/launch.ts";
import { runPod } from "../node-agent/pod-runner.ts";
import { podDir } from "../node-agent/volumes.ts";

interface Written {
  phase?: string;
  reason?: string;
  containerStatuses?: { restartCount: number; state: { terminated?: { exitCode: number; message?: string }; waiting?: { reason: string } } }[];
  initContainerStatuses?: { state: { terminated?: { exitCode: number } } }[];
}

async function run(pod: V1Pod, isolation: Isolation, root: string): Promise<Written> {
  const writes: Written[] = [];
  const mountPoints = new MountPoints();
  const handle = runPod(pod, {
    sources: { secret: async () => undefined, configMap: async () => undefined },
    writeStatus: async (_ns, _name, status) => void writes.push(status as Written),
    root,
    baseEnv: { PATH: inheritedEnv().PATH ?? "/usr/bin:/bin" },
    isolation,
    mountPoints,
    log: createLogger({ name: "runner-test", level: "silent" }),
    now: () => new Date(),
    sleep: async () => undefined, // back-off and deadlines elapse at once
  });
  await handle.finished;
  await handle.stop(0);
  mountPoints.cleanup();
  return writes.at(-1) ?? {};
}

function pod(name: string, spec: Partial<NonNullable<V1Pod["spec"]>>): V1Pod {
  return { metadata: { name, namespace: "t", uid: `uid-${name}` }, spec: { restartPolicy: "Never", containers: [], ...spec } };
}

const isolations: Isolation[] = probeIsolation() === "unshare" ? ["unshare", "symlink"] : ["symlink"];

describe("pod runner", () => {
  for (const isolation of isolations) {
    it(`mounts volumes and captures the termination message (${isolation})`, async () => {
      const dir = tempDir("runner");
      try {
        const mnt = join(dir.path, "mnt");
        const c = {
          name: "main",
          command: ["sh", "-c", `pwd > out.txt; cat out.txt > ${mnt}/msg`],
          workingDir: `${mnt}/work`,
          terminationMessagePath: `${mnt}/msg`,
          volumeMounts: [{ name: "work", mountPath: `${mnt}/work` }],
        };
        const p = pod("mounts", { containers: [c], volumes: [{ name: "work", emptyDir: {} }] });
        const status = await run(p, isolation, join(dir.path, "root"));
        assert.equal(status.phase, "Succeeded");
        assert.equal(status.containerStatuses?.[0]?.state.terminated?.message, `${mnt}/work\n`);
        const onHost = join(podDir(join(dir.path, "root"), p), "volumes", "work", "out.txt");
        assert.equal(readFileSync(onHost, "utf8"), `${mnt}/work\n`);
        assert.ok(!existsSync(mnt) || readdirSync(mnt).length === 0, "nothing of the mounts is left at the mount paths");
      } finally {
        dir.remove();
      }
    });
  }

  const cases = [
    {
      name: "OnFailure restarts until success",
      spec: {
        restartPolicy: "OnFailure",
        containers: [{ name: "c", command: ["sh", "-c", "if [ -f \"$STATE/m\" ]; then exit 0; fi; touch \"$STATE/m\"; exit 1"], env: [{ name: "STATE", value: "" }] }],
      },
      check: (s: Written) => {
        assert.equal(s.phase, "Succeeded");
        assert.equal(s.containerStatuses?.[0]?.restartCount, 1);
      },
    },
    {
      name: "activeDeadlineSeconds fails the pod",
      spec: { activeDeadlineSeconds: 0, containers: [{ name: "c", command: ["sleep", "600"] }] },
      check: (s: Written) => {
        assert.equal(s.phase, "Failed");
        assert.equal(s.reason, "DeadlineExceeded");
      },
    },
    {
      name: "a failed init container fails the pod before any container starts",
      spec: { initContainers: [{ name: "init", command: ["sh", "-c", "exit 5"] }], containers: [{ name: "c", command: ["true"] }] },
      check: (s: Written) => {
        assert.equal(s.phase, "Failed");
        assert.equal(s.initContainerStatuses?.[0]?.state.terminated?.exitCode, 5);
        assert.equal(s.containerStatuses?.[0]?.state.waiting?.reason, "PodInitializing");
      },
    },
    {
      name: "a missing executable ends the container with exit code 127",
      spec: { containers: [{ name: "c", command: ["pw-no-such-binary"] }] },
      check: (s: Written) => assert.equal(s.containerStatuses?.[0]?.state.terminated?.exitCode, 127),
    },
  ];
  for (const tc of cases) {
    it(tc.name, async () => {
      const dir = tempDir("runner");
      try {
        const spec = JSON.parse(JSON.stringify(tc.spec).replaceAll('"STATE","value":""', `"STATE","value":"${dir.path}"`)) as Partial<NonNullable<V1Pod["spec"]>>;
        tc.check(await run(pod(tc.name.replace(/\W+/g, "-").toLowerCase(), spec), isolations[0] ?? "symlink", dir.path));
      } finally {
        dir.remove();
      }
    });
  }

  it("the CLI names what it needs when started without arguments", () => {
    const main = fileURLToPath(new URL("../node-agent/main.ts", import.meta.url));
    const res = spawnSync(process.execPath, [main], { encoding: "utf8", env: { PATH: inheritedEnv().PATH ?? "" } });
    assert.equal(res.status, 2);
    assert.match(res.stderr, /--root and --kubeconfig \(or KUBECONFIG\) are required/);
  });
});
