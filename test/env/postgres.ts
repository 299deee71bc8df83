/**
 * A real PostgreSQL server for tests (Debian's packages): a fresh cluster in its own directory
 * on 127.0.0.1 and a free port, password authentication over TCP. The server refuses to run as
 * root, so it runs as the `postgres` system user when the tests are root.
 * @module
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { userInfo } from "node:os";
import { inheritedEnv } from "./config.ts";
import { freePort } from "./ports.ts";
import { startProcess } from "./supervisor.ts";
import type { SupervisedProcess } from "./supervisor.ts";
import { waitFor } from "./wait.ts";

export interface PostgresOptions {
  /** Working directory: the cluster in `dir/data`, the log in `dir/postgres.log`. */
  readonly dir: string;
  /** Directory with initdb and postgres (default: the newest /usr/lib/postgresql/<v>/bin). */
  readonly binDir?: string;
  readonly timeoutMs?: number;
}

export interface Postgres {
  readonly host: "127.0.0.1";
  readonly port: number;
  readonly user: "postgres";
  readonly password: string;
  /** PGHOST/PGPORT/PGUSER/PGPASSWORD for pg_dump, pg_restore and psql. */
  clientEnv(): Record<string, string>;
  /** Runs `psql -v ON_ERROR_STOP=1 -At -c <sql>` against `database`; returns stdout. */
  psql(sql: string, database?: string): Promise<string>;
  readonly process: Pick<SupervisedProcess, "name" | "pid" | "logPath">;
  stop(): Promise<void>;
}

export function postgresBinDir(): string {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base) ? readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  if (versions.length === 0) throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql; scripts/setup.sh installs the Debian package postgresql");
  return join(base, versions[0]!, "bin");
}

function run(command: string, args: readonly string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...inheritedEnv(), ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(Buffer.concat(out).toString()) : reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${Buffer.concat(err).toString().trim()}`)),
    );
  });
}

/** As root, commands run as the postgres system user (setpriv keeps the environment). */
function asServerUser(command: string, args: readonly string[]): [string, string[]] {
  if (userInfo().uid !== 0) return [command, [...args]];
  return ["setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", command, ...args]];
}

async function initCluster(bin: string, data: string, password: string, dir: string): Promise<void> {
  mkdirSync(data, { recursive: true, mode: 0o700 });
  const pwfile = join(dir, "pwfile");
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (userInfo().uid === 0) {
    const { uid, gid } = lookupPostgres();
    for (const p of [dir, data, pwfile]) chownSync(p, uid, gid);
  }
  const [cmd, args] = asServerUser(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=scram-sha-256", `--pwfile=${pwfile}`, "--no-sync", "-E", "UTF8", "--locale=C"]);
  await run(cmd, args, {});
}

/** The Debian package creates the system user; its ids are read from the passwd database. */
function lookupPostgres(): { uid: number; gid: number } {
  const line = readFileSyncSafe("/etc/passwd").split("\n").find((l) => l.startsWith("postgres:"));
  if (!line) throw new Error("no postgres system user (the Debian package postgresql creates it); cannot run PostgreSQL as root");
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

function readFileSyncSafe(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

export async function startPostgres(opts: PostgresOptions): Promise<Postgres> {
  const bin = opts.binDir ?? postgresBinDir();
  const data = join(opts.dir, "data");
  mkdirSync(opts.dir, { recursive: true });
  const password = randomBytes(18).toString("base64url");
  await initCluster(bin, data, password, opts.dir);
  const port = await freePort();
  const [cmd, args] = asServerUser(join(bin, "postgres"), ["-D", data, "-h", "127.0.0.1", "-p", String(port), "-k", opts.dir, "-c", "fsync=off", "-c", "full_page_writes=off"]);
  const proc = await startProcess({ name: "postgres", command: cmd, args, logPath: join(opts.dir, "postgres.log") });
  const clientEnv = (): Record<string, string> => ({ PGHOST: "127.0.0.1", PGPORT: String(port), PGUSER: "postgres", PGPASSWORD: password });
  const psql = (sql: string, database = "postgres"): Promise<string> => run("psql", ["-v", "ON_ERROR_STOP=1", "-At", "-d", database, "-c", sql], clientEnv());
  const abort = proc.exited.then((e) => `postgres exited (code ${e.code}, signal ${e.signal}): ${proc.tail(20)}`);
  await waitFor(async () => (await psql("select 1")).trim() === "1", { what: `PostgreSQL on 127.0.0.1:${port}`, timeoutMs: opts.timeoutMs ?? 30_000, abort });
  return { host: "127.0.0.1", port, user: "postgres", password, clientEnv, psql, process: proc, stop: async () => void (await proc.stop()) };
}
