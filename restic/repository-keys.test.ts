import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "../kube/log.ts";
import type { CryptoKey } from "./crypto.ts";
import type { KeyStore } from "./key-store.ts";
import { keyFileName } from "./key-store.ts";
import { openRepository } from "./repository.ts";
import type { CountingBackend } from "./testing.ts";
import { countingBackend, memoryBackend } from "./testing.ts";
import { repoFiles, vectors } from "./testdata/vectors.ts";

const { v1, v2 } = vectors.repositories;
const password = vectors.password;
const LOCATION = "memory:keys";

let root = "";
let n = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "pw-restic-repo-keys-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/**
 * A new "process": its own in-memory key cache (so nothing is remembered but what `cacheDir`
 * holds) and a backend that counts reads; `keys/` files are read only by a key search (scrypt).
 */
async function open(files: Map<string, Uint8Array>, cacheDir: string, pw = password): Promise<{ backend: CountingBackend; id: string }> {
  const backend = countingBackend(memoryBackend(files, LOCATION));
  const repo = await openRepository({ backend, password: pw, keyCache: new Map<string, Promise<CryptoKey>>(), cacheDir });
  await repo.flushCache(); // the key found is stored in the background
  return { backend, id: repo.id };
}
const keyReads = (b: CountingBackend): string[] => b.reads.filter((p) => p.startsWith("keys/"));

describe("the key store through openRepository", () => {
  it("a restarted process opens with the stored key: no key file is read (no scrypt)", async () => {
    const files = repoFiles(v2);
    const cacheDir = join(root, `c${n++}`);
    const first = await open(files, cacheDir);
    assert.equal(keyReads(first.backend).length, 1);
    const second = await open(files, cacheDir);
    assert.deepEqual(keyReads(second.backend), []);
    assert.equal(second.id, v2.config.plain.id);
  });

  const cases: { name: string; change: (files: Map<string, Uint8Array>, cacheDir: string) => Promise<Map<string, Uint8Array>>; password?: string; expect: string | "opens" }[] = [
    { name: "a wrong password", change: async (f) => f, password: "not-the-password", expect: "WrongPassword" },
    {
      name: "its key file removed (the password was revoked with restic key remove)",
      change: async (f) => new Map([...f].filter(([p]) => !p.startsWith("keys/"))),
      expect: "WrongPassword",
    },
    { name: "a repository re-created at the same place", change: async () => repoFiles(v1), expect: "opens" },
    {
      name: "a damaged store file",
      change: async (f, dir) => {
        await writeFile(join(dir, keyFileName(LOCATION)), "junk");
        return f;
      },
      expect: "opens",
    },
  ];
  for (const c of cases) {
    it(`${c.name}: the stored key is not used`, async () => {
      const cacheDir = join(root, `c${n++}`);
      await open(repoFiles(v2), cacheDir);
      const files = await c.change(repoFiles(v2), cacheDir);
      if (c.expect !== "opens") {
        await assert.rejects(open(files, cacheDir, c.password), { code: c.expect });
        return;
      }
      const again = await open(files, cacheDir, c.password);
      assert.equal(keyReads(again.backend).length, 1, "the key was searched");
      const stored = await readFile(join(cacheDir, keyFileName(LOCATION)));
      const third = await open(files, cacheDir, c.password);
      assert.deepEqual(keyReads(third.backend), [], "the key found was stored");
      assert.equal(third.id, again.id);
      assert.notDeepEqual(stored, Buffer.from("junk"));
    });
  }
});

describe("saving the key found", () => {
  /** A key store whose saves wait for `release` (or fail), and a log that keeps its warnings. */
  function slowStore(fails: boolean): { store: KeyStore; release: () => void; saves: () => number; log: Logger; warnings: string[] } {
    const gate = Promise.withResolvers<void>();
    let saves = 0;
    const warnings: string[] = [];
    const store: KeyStore = {
      load: async () => undefined,
      save: async () => {
        saves++;
        await gate.promise;
        if (fails) throw new Error("store down");
      },
    };
    const log = { debug: () => undefined, warn: (_: unknown, msg: string) => warnings.push(msg) } as unknown as Logger;
    return { store, release: () => gate.resolve(), saves: () => saves, log, warnings };
  }
  const cases = [
    { name: "a save that succeeds", fails: false, warnings: [] },
    { name: "a save that fails", fails: true, warnings: ["restic key store not written"] },
  ];
  for (const c of cases) {
    it(`${c.name}: the repository opens before the save ends; flushCache waits for it`, async () => {
      const s = slowStore(c.fails);
      const backend = memoryBackend(repoFiles(v2), LOCATION);
      const repo = await openRepository({ backend, password, keyCache: new Map<string, Promise<CryptoKey>>(), keyStore: s.store, log: s.log });
      assert.equal(s.saves(), 1, "the save has started");
      let flushed = false;
      const flushing = repo.flushCache().then(() => (flushed = true));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(flushed, false, "flushCache waits for the save");
      s.release();
      await flushing;
      assert.deepEqual(s.warnings, c.warnings);
    });
  }
});
