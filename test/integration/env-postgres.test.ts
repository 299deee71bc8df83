// A real PostgreSQL (Debian's) on loopback: password authentication, and the pg_dump /
// pg_restore round trip that postgres policies rely on.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { startPostgres } from "../env/postgres.ts";
import type { Postgres } from "../env/postgres.ts";
import { tempDir } from "../env/testing.ts";
import { inheritedEnv } from "../env/config.ts";

let pg: Postgres;
const dir = tempDir("postgres");
before(async () => (pg = await startPostgres({ dir: dir.path })));
after(async () => {
  await pg?.stop();
  dir.remove();
});

describe("PostgreSQL", () => {
  it("answers on 127.0.0.1 with the generated password, and refuses a wrong one", async () => {
    assert.match(await pg.psql("select version()"), /^PostgreSQL \d+/);
    const wrong = spawnSync("psql", ["-At", "-c", "select 1"], { env: { ...inheritedEnv(), ...pg.clientEnv(), PGPASSWORD: "wrong" }, encoding: "utf8" });
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stderr, /password authentication failed/);
  });

  it("pg_dump --format=custom and pg_restore round-trip a database", async () => {
    await pg.psql("create database shop");
    await pg.psql("create table orders (id int primary key, item text); insert into orders select g, 'item ' || g from generate_series(1, 100) g", "shop");
    const dump = join(dir.path, "shop.dump");
    const env = { ...inheritedEnv(), ...pg.clientEnv() };
    const dumped = spawnSync("pg_dump", ["--format=custom", "--file", dump, "shop"], { env, encoding: "utf8" });
    assert.equal(dumped.status, 0, dumped.stderr);
    await pg.psql("create database restored");
    const restored = spawnSync("pg_restore", ["--dbname=restored", dump], { env, encoding: "utf8" });
    assert.equal(restored.status, 0, restored.stderr);
    assert.equal((await pg.psql("select count(*), max(item) from orders", "restored")).trim(), "100|item 99");
  });
});
