import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { scryptSync } from "node:crypto";
import type { DecodePool } from "./decode-pool.ts";
import { createDecodePool, defaultPoolSize } from "./decode-pool.ts";
import type { RomixLane } from "./scrypt.ts";
import { blocksOf, eventLoopLane, mixClaimed, mixedCount, scryptInLanes, shareBlocks } from "./scrypt.ts";
import { romixModuleBytes } from "./romix-wasm.ts";
import { sleb, uleb } from "./wasm-encoder.ts";
import { validate } from "./wasm.ts";

const inThread: RomixLane = async (shared) => mixClaimed(shared);
const text = (s: string): Uint8Array => Buffer.from(s, "utf8");

describe("scrypt in lanes (RFC 7914 §12 test vectors)", () => {
  const vectors = [
    { name: "empty password and salt, N=16 r=1 p=1", password: "", salt: "", N: 16, r: 1, p: 1, hex: "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906" },
    { name: "password/NaCl, N=1024 r=8 p=16", password: "password", salt: "NaCl", N: 1024, r: 8, p: 16, hex: "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640" },
  ];
  for (const v of vectors) {
    for (const lanes of [1, 2, 3]) {
      it(`${v.name}, ${lanes} lane(s)`, async () => {
        const dk = await scryptInLanes({ password: text(v.password), salt: text(v.salt), N: v.N, r: v.r, p: v.p, dkLen: 64 }, Array<RomixLane>(lanes).fill(inThread));
        assert.equal(Buffer.from(dk).toString("hex"), v.hex);
      });
    }
  }
});

describe("scrypt in lanes equals Node's scrypt", () => {
  const cases = [
    { name: "smallest N", N: 2, r: 1, p: 1 },
    { name: "odd r, more lanes than blocks", N: 4, r: 3, p: 2 },
    { name: "p not a multiple of the lanes", N: 64, r: 2, p: 5 },
    { name: "restic's N=2^15 r=8, p=3", N: 32768, r: 8, p: 3 },
  ];
  const salt = Buffer.alloc(64, 0xa5);
  for (const c of cases) {
    it(c.name, async () => {
      const password = text("correct horse battery staple");
      const dk = await scryptInLanes({ password, salt, ...c, dkLen: 64 }, [inThread, inThread]);
      assert.deepEqual(Buffer.from(dk), scryptSync(password, salt, 64, { N: c.N, r: c.r, p: c.p, maxmem: 1 << 30 }));
    });
  }
  it("in the decode pool's workers", async () => {
    const pool: DecodePool = createDecodePool({ size: 2 });
    try {
      const lane: RomixLane = (shared) => pool.romix(shared);
      const password = text("pw");
      const dk = await scryptInLanes({ password, salt, N: 1024, r: 8, p: 4, dkLen: 64 }, [lane, lane]);
      assert.deepEqual(Buffer.from(dk), scryptSync(password, salt, 64, { N: 1024, r: 8, p: 4 }));
      const withMain = await scryptInLanes({ password, salt, N: 1024, r: 8, p: 7, dkLen: 64 }, [lane, lane, eventLoopLane]);
      assert.deepEqual(Buffer.from(withMain), scryptSync(password, salt, 64, { N: 1024, r: 8, p: 7 }));
    } finally {
      await pool.close();
    }
  });
});

describe("shared blocks", () => {
  const refused = [
    { name: "N not a power of two", blocks: 128, N: 12, r: 1 },
    { name: "N below 2", blocks: 128, N: 1, r: 1 },
    { name: "a partial block", blocks: 100, N: 16, r: 1 },
    { name: "r of 0", blocks: 128, N: 16, r: 0 },
  ];
  for (const c of refused) it(`refuses what is not scrypt: ${c.name}`, () => assert.throws(() => shareBlocks(new Uint8Array(c.blocks), { N: c.N, r: c.r }), RangeError));
  it("each block is claimed once: a limit of one mixes one, the next lane the rest", () => {
    const shared = shareBlocks(new Uint8Array(3 * 128).fill(7), { N: 16, r: 1 });
    assert.deepEqual([mixClaimed(shared, 1), mixedCount(shared), mixClaimed(shared), mixClaimed(shared)], [1, 1, 2, 0]);
    const alone = shareBlocks(new Uint8Array(3 * 128).fill(7), { N: 16, r: 1 });
    mixClaimed(alone);
    assert.deepEqual(blocksOf(shared), blocksOf(alone));
  });
  const pw = { password: text("pw"), salt: text("s"), N: 16, r: 1, p: 3, dkLen: 64 };
  const expected = scryptSync("pw", "s", 64, { N: 16, r: 1, p: 3 });
  const never: RomixLane = () => new Promise(() => undefined);
  const idle: RomixLane = async () => 0;
  const broken: RomixLane = async () => {
    throw new Error("worker gone");
  };
  const ways = [
    { name: "a lane that never answers (a worker still booting) is not waited for", lanes: [never, inThread] },
    { name: "the event loop's lane alone", lanes: [eventLoopLane] },
    { name: "a lane that finds nothing left", lanes: [inThread, idle] },
  ];
  for (const w of ways) it(w.name, async () => assert.deepEqual(Buffer.from(await scryptInLanes(pw, w.lanes)), expected));
  const failures = [
    { name: "a lane failure before every block is mixed fails the derivation", lanes: [eventLoopLane, broken], error: /worker gone/ },
    { name: "lanes that stop with blocks unmixed fail it", lanes: [idle, idle], error: /3 of 3 blocks unmixed/ },
  ];
  for (const f of failures) it(f.name, async () => assert.rejects(scryptInLanes(pw, f.lanes), f.error));
});

describe("defaultPoolSize", () => {
  const cases = [
    { cores: 1, size: 1 },
    { cores: 2, size: 1 },
    { cores: 4, size: 3 },
    { cores: 16, size: 4 },
  ];
  for (const c of cases) it(`${c.cores} core(s): ${c.size} worker(s), the main thread being a lane of its own`, () => assert.equal(defaultPoolSize(c.cores), c.size));
});

describe("the WebAssembly encoder", () => {
  const leb = [
    { n: 0, u: [0], s: [0] },
    { n: 63, u: [63], s: [63] },
    { n: 64, u: [64], s: [0xc0, 0] },
    { n: 127, u: [127], s: [0xff, 0] },
    { n: 128, u: [0x80, 1], s: [0x80, 1] },
    { n: 624485, u: [0xe5, 0x8e, 0x26], s: [0xe5, 0x8e, 0x26] },
  ];
  for (const c of leb) it(`LEB128 of ${c.n}`, () => assert.deepEqual([uleb(c.n), sleb(c.n)], [c.u, c.s]));
  const negative = [
    { n: -1, s: [0x7f] },
    { n: -64, s: [0x40] },
    { n: -65, s: [0xbf, 0x7f] },
    { n: -123456, s: [0xc0, 0xbb, 0x78] },
    { n: 0xffffffff, s: [0xff, 0xff, 0xff, 0xff, 0x0f] },
    { n: -(2 ** 40), s: [0x80, 0x80, 0x80, 0x80, 0x80, 0x60] },
  ];
  for (const c of negative) it(`signed LEB128 of ${c.n}`, () => assert.deepEqual(sleb(c.n), c.s));
  it("the ROMix module validates", () => assert.ok(validate(romixModuleBytes())));
});
