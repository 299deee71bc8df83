import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { poly1305 as noblePoly1305 } from "@noble/ciphers/_poly1305.js";
import { poly1305 } from "./poly1305.ts";
import { poly1305ModuleBytes } from "./poly1305-wasm.ts";
import { validate } from "./wasm.ts";

const hex = (s: string): Uint8Array => Buffer.from(s.replace(/[^0-9a-f]/g, ""), "hex");
const tagOf = (message: Uint8Array, key: Uint8Array): string => Buffer.from(poly1305(message, key)).toString("hex");

describe("Poly1305 in WebAssembly", () => {
  it("the module validates", () => assert.ok(validate(poly1305ModuleBytes())));

  const vectors = [
    {
      name: "RFC 8439 §2.5.2 (r is clamped inside)",
      key: "85:d6:be:78:57:55:6d:33:7f:44:52:fe:42:d5:06:a8:01:03:80:8a:fb:0d:b2:fd:4a:bf:f6:af:41:49:f5:1b",
      message: Buffer.from("Cryptographic Forum Research Group"),
      tag: "a8061dc1305136c6c22b8baf0c0127a9",
    },
    { name: "RFC 8439 A.3 #1: all zero", key: "00".repeat(32), message: new Uint8Array(64), tag: "00".repeat(16) },
    {
      name: "RFC 8439 A.3 #6: h reaches 2^130 - 5 (the final subtraction)",
      key: "02" + "00".repeat(31),
      message: hex("ff".repeat(16)),
      tag: "03" + "00".repeat(15),
    },
    {
      name: "RFC 8439 A.3 #7: carry into the top limb",
      key: "01" + "00".repeat(31),
      message: hex("ff".repeat(16) + "f0" + "ff".repeat(15) + "11" + "00".repeat(15)),
      tag: "05" + "00".repeat(15),
    },
  ];
  for (const v of vectors) it(v.name, () => assert.equal(tagOf(v.message, hex(v.key)), v.tag));

  it("equals @noble/ciphers' Poly1305 for every length 0-300 and a few large messages", () => {
    for (const length of [...Array.from({ length: 301 }, (_, i) => i), 4096, 65_537, 200_000]) {
      const key = randomBytes(32);
      const message = randomBytes(length);
      assert.equal(tagOf(message, key), Buffer.from(noblePoly1305(message, key)).toString("hex"), `length ${length}`);
    }
  });

  it("refuses a key that is not 32 bytes", () => assert.throws(() => poly1305(new Uint8Array(1), new Uint8Array(16)), RangeError));
});
