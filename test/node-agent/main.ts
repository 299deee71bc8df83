/**
 * CLI entry of the test node agent:
 *
 *   node test/node-agent/main.ts --root DIR [--kubeconfig FILE] [--node-name NAME]
 *        [--selector LABEL_SELECTOR] [--bind always|unschedulable|never] [--label k=v]...
 *        [--isolation auto|unshare|symlink] [--schedulable]
 *
 * Runs until SIGINT/SIGTERM; every container process dies with it.
 * @module
 */
import { parseArgs } from "node:util";
import { createLogger } from "../../kube/log.ts";
import { startNodeAgent } from "./agent.ts";
import { ISOLATIONS } from "./launch.ts";
import type { Isolation } from "./launch.ts";
import { BIND_POLICIES } from "./scheduling.ts";
import type { BindPolicy } from "./scheduling.ts";

const USAGE = "usage: main.ts --root DIR [--kubeconfig FILE] [--node-name NAME] [--selector SEL] [--bind always|unschedulable|never] [--label k=v]... [--isolation auto|unshare|symlink] [--schedulable]";

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(`--${flag} ${value}: expected one of ${allowed.join(", ")}`);
}

function labels(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf("=");
    if (i <= 0) throw new Error(`--label ${p}: expected key=value`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      root: { type: "string" },
      kubeconfig: { type: "string" },
      "node-name": { type: "string" },
      selector: { type: "string" },
      bind: { type: "string" },
      label: { type: "string", multiple: true },
      isolation: { type: "string" },
      schedulable: { type: "boolean" },
    },
  });
  const kubeconfigPath = values.kubeconfig ?? process.env.KUBECONFIG;
  if (!values.root || !kubeconfigPath) throw new Error(`--root and --kubeconfig (or KUBECONFIG) are required\n${USAGE}`);
  const log = createLogger({ name: "node-agent", level: process.env.LOG_LEVEL === "debug" ? "debug" : "info" });
  const agent = await startNodeAgent({
    kubeconfigPath,
    root: values.root,
    nodeName: values["node-name"],
    podSelector: values.selector,
    bind: oneOf<BindPolicy>("bind", values.bind, BIND_POLICIES),
    schedulable: values.schedulable ?? false,
    nodeLabels: labels(values.label ?? []),
    isolation: oneOf<Isolation | "auto">("isolation", values.isolation, [...ISOLATIONS, "auto"]),
    baseEnv: { PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin" },
    log,
  });
  const shutdown = () => void agent.stop().finally(() => process.exit(0));
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(2);
});
