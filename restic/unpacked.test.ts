import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { constants, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { UnpackedFormatError, decodeUnpacked, encodeUnpacked, parseUnpacked, parseUnpackedJson, reusesZstdContext } from "./unpacked.ts";
import type { RepoVersion } from "./unpacked.ts";

const json = Buffer.from('{"time":"2025-01-01T00:00:00Z","paths":["/data"]}');
const marker = (frame: Uint8Array): Uint8Array => Buffer.concat([Buffer.from([0x02]), frame]);
/** A frame whose header has no Frame_Content_Size (FHD bits 7-6 = 0, single-segment bit clear). */
const noSizeFrame = zstdCompressSync(json, { params: { [constants.ZSTD_c_contentSizeFlag]: 0 } });

describe("zstd frames without a content size", () => {
  it("the crafted frame really has no Frame_Content_Size", () => {
    const fhd = noSizeFrame[4] ?? 0xff;
    assert.equal(fhd & 0xc0, 0, "FCS flag");
    assert.equal(fhd & 0x20, 0, "single-segment flag");
  });
});

describe("decodeUnpacked", () => {
  const ok: { name: string; version: RepoVersion; input: Uint8Array }[] = [
    { name: "v1 plain JSON", version: 1, input: json },
    { name: "v2 legacy plain JSON object", version: 2, input: json },
    { name: "v2 legacy plain JSON array", version: 2, input: Buffer.from("[1]") },
    { name: "v2 zstd frame with content size", version: 2, input: marker(zstdCompressSync(json)) },
    { name: "v2 zstd frame without content size", version: 2, input: marker(noSizeFrame) },
    { name: "v2 as encodeUnpacked writes it", version: 2, input: encodeUnpacked(json, 2) },
  ];
  for (const c of ok) {
    it(`decodes ${c.name}`, () => {
      const out = decodeUnpacked(c.input, c.version);
      const expected = c.input[0] === 0x5b ? c.input : json;
      assert.deepEqual(Buffer.from(out), Buffer.from(expected));
    });
  }

  const bad: { name: string; input: Uint8Array; message: RegExp }[] = [
    { name: "an empty plaintext", input: new Uint8Array(0), message: /empty/ },
    { name: "an unknown first byte", input: Buffer.from([0x01, 0x00]), message: /0x01/ },
    { name: "a damaged zstd frame", input: marker(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff])), message: /zstd/ },
    { name: "a marker with no frame", input: Buffer.from([0x02]), message: /zstd/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => {
      assert.throws(() => decodeUnpacked(c.input, 2), (err: unknown) => err instanceof UnpackedFormatError && c.message.test(err.message));
    });
  }
});

describe("parseUnpackedJson", () => {
  it("parses UTF-8 JSON", () => assert.deepEqual(parseUnpackedJson(Buffer.from('{"a":"é"}')), { a: "é" }));
  it("rejects text that is not JSON", () => assert.throws(() => parseUnpackedJson(Buffer.from("{nope")), UnpackedFormatError));
  it("keeps v1 files uncompressed", () => assert.deepEqual(encodeUnpacked(json, 1), json));
});

/** What zstdDecompressSync makes of a frame: the reference the reused context must match. */
function reference(frame: Uint8Array): { text: string } | { error: true } {
  try {
    return { text: zstdDecompressSync(frame).toString("utf8") };
  } catch {
    return { error: true };
  }
}

describe("the reused zstd context decodes every frame as zstdDecompressSync does", () => {
  it("is available on this Node version (else every frame costs a new context: about 10x slower)", () => assert.equal(reusesZstdContext(), true));
  const doc = (n: number): Buffer => Buffer.from(JSON.stringify({ n, tags: Array.from({ length: n }, (_, i) => `tag-${i}-${(i * 2654435761) % 1000003}`) }));
  const frame = (n: number): Buffer => zstdCompressSync(doc(n));
  const big = frame(20_000);
  const cases: { name: string; frame: Uint8Array }[] = [
    { name: "a small frame", frame: frame(1) },
    { name: "a frame without a content size", frame: noSizeFrame },
    { name: "a truncated frame", frame: frame(50).subarray(0, 40) },
    { name: "the small frame again, after a failure", frame: frame(2) },
    { name: "a damaged frame", frame: Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff]) },
    { name: "two frames back to back", frame: Buffer.concat([frame(3), frame(4)]) },
    { name: "a frame with trailing bytes", frame: Buffer.concat([frame(5), Buffer.from([1, 2, 3])]) },
    { name: `a frame of ${doc(20_000).length} bytes (more than the reused output buffer)`, frame: big },
    { name: "a frame of level 19", frame: zstdCompressSync(doc(300), { params: { [constants.ZSTD_c_compressionLevel]: 19 } }) },
    { name: "the small frame once more", frame: frame(1) },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const want = reference(c.frame);
      const input = marker(c.frame);
      if ("error" in want) {
        assert.throws(() => decodeUnpacked(input, 2), UnpackedFormatError);
        assert.throws(() => parseUnpacked(input, 2), UnpackedFormatError);
        return;
      }
      assert.equal(Buffer.from(decodeUnpacked(input, 2)).toString("utf8"), want.text);
      assert.deepEqual(parseUnpacked(input, 2), JSON.parse(want.text));
    });
  }
  it("decodeUnpacked returns a copy the next decode does not overwrite", () => {
    const first = decodeUnpacked(marker(frame(1)), 2);
    decodeUnpacked(marker(frame(9)), 2);
    assert.equal(Buffer.from(first).toString("utf8"), doc(1).toString("utf8"));
  });
});

describe("parseUnpacked", () => {
  const ok: { name: string; version: RepoVersion; input: Uint8Array }[] = [
    { name: "v1 plain JSON", version: 1, input: json },
    { name: "v2 legacy plain JSON", version: 2, input: json },
    { name: "v2 zstd frame", version: 2, input: encodeUnpacked(json, 2) },
  ];
  for (const c of ok) it(`parses ${c.name}`, () => assert.deepEqual(parseUnpacked(c.input, c.version), JSON.parse(json.toString("utf8"))));
  it("rejects a frame that decodes to text that is not JSON", () => {
    assert.throws(() => parseUnpacked(encodeUnpacked(Buffer.from("{nope"), 2), 2), /not valid JSON/);
  });
});
