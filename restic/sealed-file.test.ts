import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { openFile, sealFile } from "./sealed-file.ts";

const format = { magic: Buffer.from("PWTEST\x00\x01", "latin1"), headerBytes: 4 };
const key = Buffer.alloc(32, 7);
const header = Buffer.from([1, 2, 3, 4]);
const sealed = sealFile(format, { key, context: "repo-a", header }, Buffer.from("secret"));
const open = (file: Uint8Array, o: { context?: string; keyFor?: (h: Buffer) => Uint8Array; format?: typeof format } = {}) =>
  openFile(o.format ?? format, { keyFor: o.keyFor ?? (() => key), context: o.context ?? "repo-a" }, file);

describe("sealed files", () => {
  it("open what was sealed, handing the header to keyFor", () => {
    const seen: Buffer[] = [];
    assert.equal(open(sealed, { keyFor: (h) => (seen.push(Buffer.from(h)), key) })?.toString(), "secret");
    assert.deepEqual(seen, [header]);
  });

  const refused: { name: string; file: () => Uint8Array; context?: string; keyFor?: () => Uint8Array; format?: typeof format }[] = [
    { name: "another context", file: () => sealed, context: "repo-b" },
    { name: "another key", file: () => sealed, keyFor: () => Buffer.alloc(32, 8) },
    { name: "another format's magic", file: () => sealed, format: { ...format, magic: Buffer.from("PWTEST\x00\x02", "latin1") } },
    { name: "a changed header byte", file: () => Buffer.from(sealed).fill(9, 8, 9) },
    { name: "a truncated file", file: () => sealed.subarray(0, 20) },
  ];
  for (const c of refused) {
    it(`refuse ${c.name}`, () => {
      assert.equal(open(c.file(), { ...(c.context ? { context: c.context } : {}), ...(c.keyFor ? { keyFor: c.keyFor } : {}), ...(c.format ? { format: c.format } : {}) }), undefined);
    });
  }

  it("refuse to seal a header of the wrong length, naming the length expected", () => {
    assert.throws(() => sealFile(format, { key, context: "x" }, Buffer.from("y")), /header must be 4 bytes, got 0/);
  });
});
