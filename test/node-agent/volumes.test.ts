import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import type { DataSources } from "./env.ts";
import { containerMounts, nfsDir, podDir, prepareVolumes, pvcDir } from "./volumes.ts";

const sources: DataSources = {
  secret: async (_ns, name) => (name === "creds" ? { key: "k1", other: "o" } : undefined),
  configMap: async (_ns, name) => (name === "kube-root-ca.crt" ? { "ca.crt": "CA" } : undefined),
};

const pod: V1Pod = {
  metadata: { name: "p", namespace: "ns", uid: "u" },
  spec: {
    containers: [],
    volumes: [
      { name: "data", persistentVolumeClaim: { claimName: "db" } },
      { name: "repo", nfs: { server: "nas.local", path: "/exports/backups" } },
      { name: "tmp", emptyDir: {} },
      { name: "creds", secret: { secretName: "creds", items: [{ key: "key", path: "dir/key.txt", mode: 0o600 }] } },
      {
        name: "kube-api-access-x",
        projected: { sources: [{ serviceAccountToken: { path: "token" } }, { configMap: { name: "kube-root-ca.crt" } }, { downwardAPI: { items: [{ path: "namespace", fieldRef: { fieldPath: "metadata.namespace" } }] } }] },
      },
    ],
  },
};

describe("directory conventions", () => {
  const cases = [
    { name: "pvc", got: pvcDir("/r", "ns", "db"), want: "/r/pvc/ns/db" },
    { name: "nfs", got: nfsDir("/r", "nas", "/exports/b"), want: "/r/nfs/nas/exports/b" },
    { name: "nfs path cannot escape", got: nfsDir("/r", "nas", "../../etc"), want: "/r/nfs/nas/etc" },
    { name: "pod", got: podDir("/r", pod), want: "/r/pods/ns_p_u" },
  ];
  for (const tc of cases) it(tc.name, () => assert.equal(tc.got, tc.want));
});

describe("prepareVolumes and containerMounts", () => {
  it("makes every volume a directory, renders files, skips tokens, and plans the mounts", async () => {
    const root = mkdtempSync(join(tmpdir(), "pw-vol-"));
    try {
      const vols = await prepareVolumes(pod, root, sources);
      const creds = vols.get("creds");
      assert.equal(creds?.kind, "dir");
      const keyFile = join(creds?.kind === "dir" ? creds.path : "", "dir/key.txt");
      assert.equal(readFileSync(keyFile, "utf8"), "k1");
      assert.equal(statSync(keyFile).mode & 0o777, 0o600);
      const api = vols.get("kube-api-access-x");
      const apiDir = api?.kind === "dir" ? api.path : "";
      assert.equal(readFileSync(join(apiDir, "ca.crt"), "utf8"), "CA");
      assert.equal(readFileSync(join(apiDir, "namespace"), "utf8"), "ns");
      assert.throws(() => statSync(join(apiDir, "token")), /ENOENT/);
      const mounts = containerMounts(
        { name: "c", volumeMounts: [{ name: "data", mountPath: "/data", subPath: "pg" }, { name: "repo", mountPath: "/repo", readOnly: true }], terminationMessagePath: "/tmp/msg" },
        vols,
        { terminationFile: "/t/msg", env: {} },
      );
      assert.deepEqual(mounts, [
        { source: join(root, "pvc/ns/db/pg"), target: "/data", readOnly: false, file: false },
        { source: join(root, "nfs/nas.local/exports/backups"), target: "/repo", readOnly: true, file: false },
        { source: "/t/msg", target: "/tmp/msg", readOnly: false, file: true },
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  const errors = [
    { name: "missing Secret", vol: { name: "s", secret: { secretName: "gone" } }, error: /volume: Secret ns\/gone does not exist/ },
    { name: "missing item key", vol: { name: "s", secret: { secretName: "creds", items: [{ key: "nope", path: "x" }] } }, error: /has no key "nope"/ },
  ];
  for (const tc of errors) {
    it(`rejects a ${tc.name}`, async () => {
      const root = mkdtempSync(join(tmpdir(), "pw-vol-"));
      try {
        await assert.rejects(prepareVolumes({ ...pod, spec: { containers: [], volumes: [tc.vol] } }, root, sources), tc.error);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }

  it("rejects a subPath that leaves the volume", () => {
    const vols = new Map([["d", { kind: "dir" as const, path: "/r/pvc/ns/d" }]]);
    assert.throws(() => containerMounts({ name: "c", volumeMounts: [{ name: "d", mountPath: "/d", subPath: "../x" }] }, vols, { terminationFile: "/t", env: {} }), /subPath "..\/x" must be relative/);
  });
  it("rejects a mount of an unknown volume", () => {
    assert.throws(() => containerMounts({ name: "c", volumeMounts: [{ name: "nope", mountPath: "/d" }] }, new Map(), { terminationFile: "/t", env: {} }), /volumeMount nope: no volume of that name/);
  });
});
