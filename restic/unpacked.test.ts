import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { constants, zstdCompressSync } from "node:zlib";
import { UnpackedFormatError, decodeUnpacked, encodeUnpacked, parseUnpackedJson } from "./unpacked.ts";
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
