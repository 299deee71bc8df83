/**
 * Writes a CA and a serving certificate to a directory (for the local sandbox and manual runs).
 *
 *   node certs/cli.ts --out DIR [--cn NAME] [--dns NAME]... [--ip ADDR]... [--days N]
 *
 * Files: ca.crt, ca.key, tls.crt, tls.key (keys mode 0600). An existing ca.crt + ca.key in DIR
 * is reused, so re-running renews only the serving certificate. Prints a JSON summary with the
 * file paths and the base64 `caBundle`.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { generateCA, issueCertificate, toCaBundle } from "./certificates.ts";

export interface ServingFilesOptions {
  readonly dir: string;
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly days?: number;
}

export interface ServingFiles {
  readonly caCert: string;
  readonly caKey: string;
  readonly tlsCert: string;
  readonly tlsKey: string;
  readonly caBundle: string;
  readonly reusedCA: boolean;
}

/** Creates (or reuses) the CA in `dir` and issues a serving certificate for the given SANs. */
export async function writeServingFiles(opts: ServingFilesOptions): Promise<ServingFiles> {
  if (opts.dnsNames.length + opts.ipAddresses.length === 0) {
    throw new Error("certs: no subject alternative name given; expected at least one --dns or --ip");
  }
  mkdirSync(opts.dir, { recursive: true });
  const paths = {
    caCert: join(opts.dir, "ca.crt"),
    caKey: join(opts.dir, "ca.key"),
    tlsCert: join(opts.dir, "tls.crt"),
    tlsKey: join(opts.dir, "tls.key"),
  };
  const reusedCA = existsSync(paths.caCert) && existsSync(paths.caKey);
  const ca = reusedCA
    ? { certPem: readFileSync(paths.caCert, "utf8"), keyPem: readFileSync(paths.caKey, "utf8") }
    : await generateCA(`${opts.commonName}-ca`, { days: 3650 });
  if (!reusedCA) {
    writeFileSync(paths.caCert, ca.certPem);
    writeFileSync(paths.caKey, ca.keyPem, { mode: 0o600 });
  }
  const leaf = await issueCertificate({
    ca,
    commonName: opts.commonName,
    dnsNames: opts.dnsNames,
    ipAddresses: opts.ipAddresses,
    usage: "server",
    days: opts.days ?? 365,
  });
  writeFileSync(paths.tlsCert, leaf.certPem);
  writeFileSync(paths.tlsKey, leaf.keyPem, { mode: 0o600 });
  return { ...paths, caBundle: toCaBundle(ca.certPem), reusedCA };
}

/** Parses argv (without node and script) into options; throws with a usage hint on bad input. */
export function parseCliArgs(argv: readonly string[]): ServingFilesOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      out: { type: "string" },
      cn: { type: "string", default: "podwarden-backup" },
      dns: { type: "string", multiple: true, default: [] },
      ip: { type: "string", multiple: true, default: [] },
      days: { type: "string" },
    },
    strict: true,
  });
  if (!values.out) throw new Error("certs: --out is required; expected --out DIR");
  const days = values.days === undefined ? undefined : Number(values.days);
  if (days !== undefined && !(Number.isInteger(days) && days > 0)) {
    throw new Error(`certs: --days ${values.days} is invalid; expected a positive whole number of days`);
  }
  return { dir: values.out, commonName: values.cn, dnsNames: values.dns, ipAddresses: values.ip, days };
}

if (import.meta.main) {
  try {
    const files = await writeServingFiles(parseCliArgs(process.argv.slice(2)));
    process.stdout.write(`${JSON.stringify(files, null, 2)}\n`);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.stderr.write("usage: node certs/cli.ts --out DIR [--cn NAME] [--dns NAME]... [--ip ADDR]... [--days N]\n");
    process.exitCode = 2;
  }
}
