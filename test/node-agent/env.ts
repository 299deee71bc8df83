/**
 * A container's environment as a kubelet builds it: `envFrom` first, then `env` in order, with
 * `$(VAR)` references expanded against what is defined so far, `valueFrom` resolved from
 * Secrets, ConfigMaps and the pod's own fields.
 * @module
 */
import type { V1Container, V1EnvVar, V1EnvFromSource, V1Pod } from "@kubernetes/client-node";

/** Reads a Secret's or ConfigMap's data (decoded) or `undefined` when it does not exist. */
export interface DataSources {
  secret(namespace: string, name: string): Promise<Readonly<Record<string, string>> | undefined>;
  configMap(namespace: string, name: string): Promise<Readonly<Record<string, string>> | undefined>;
}

/** A configuration the kubelet would report as CreateContainerConfigError. */
export class ContainerConfigError extends Error {
  override readonly name = "ContainerConfigError";
}

const REF = /\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g;

/** Expands `$(VAR)` from `env`; `$$` is a literal `$`; unknown references stay as written. */
export function expandRefs(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(REF, (whole: string, name: string | undefined) => {
    if (name === undefined) return "$";
    return Object.hasOwn(env, name) ? (env[name] ?? "") : whole;
  });
}

function mapLookup(map: Readonly<Record<string, string>> | undefined, key: string): string | undefined {
  if (!map || !Object.hasOwn(map, key)) return undefined;
  return map[key];
}

const SIMPLE_FIELDS: Readonly<Record<string, (p: V1Pod) => string | undefined>> = {
  "metadata.name": (p) => p.metadata?.name,
  "metadata.namespace": (p) => p.metadata?.namespace,
  "metadata.uid": (p) => p.metadata?.uid,
  "spec.nodeName": (p) => p.spec?.nodeName,
  "spec.serviceAccountName": (p) => p.spec?.serviceAccountName ?? "default",
  "status.hostIP": () => "127.0.0.1",
  "status.podIP": () => "127.0.0.1",
};

/** The value of a `fieldRef.fieldPath`, as the downward API gives it. */
export function fieldValue(pod: V1Pod, fieldPath: string): string {
  const simple = SIMPLE_FIELDS[fieldPath];
  if (simple) return simple(pod) ?? "";
  const m = /^metadata\.(labels|annotations)\['([^']+)'\]$/.exec(fieldPath);
  if (m) return (m[1] === "labels" ? pod.metadata?.labels : pod.metadata?.annotations)?.[m[2] ?? ""] ?? "";
  throw new ContainerConfigError(
    `fieldRef.fieldPath "${fieldPath}" is not supported; expected one of ${Object.keys(SIMPLE_FIELDS).join(", ")}, metadata.labels['k'], metadata.annotations['k']`,
  );
}

type RefKind = "Secret" | "ConfigMap";

const nsOf = (pod: V1Pod): string => pod.metadata?.namespace ?? "default";

function readData(src: DataSources, kind: RefKind, namespace: string, name: string | undefined) {
  return kind === "Secret" ? src.secret(namespace, name ?? "") : src.configMap(namespace, name ?? "");
}

interface KeyRef {
  readonly name?: string;
  readonly key: string;
  readonly optional?: boolean;
}

async function keyValue(pod: V1Pod, want: { envName: string; kind: RefKind; ref: KeyRef }, src: DataSources): Promise<string | undefined> {
  const { envName, kind, ref } = want;
  const ns = nsOf(pod);
  const data = await readData(src, kind, ns, ref.name);
  const value = mapLookup(data, ref.key);
  if (value === undefined && !ref.optional) {
    const what = data ? `has no key "${ref.key}"` : "does not exist";
    throw new ContainerConfigError(`env ${envName}: ${kind} ${ns}/${ref.name} ${what}; expected it to exist (or set optional: true)`);
  }
  return value;
}

async function valueFrom(pod: V1Pod, v: V1EnvVar, src: DataSources): Promise<string | undefined> {
  const from = v.valueFrom;
  if (!from) return undefined;
  if (from.fieldRef) return fieldValue(pod, from.fieldRef.fieldPath);
  if (from.secretKeyRef) return keyValue(pod, { envName: v.name, kind: "Secret", ref: from.secretKeyRef }, src);
  if (from.configMapKeyRef) return keyValue(pod, { envName: v.name, kind: "ConfigMap", ref: from.configMapKeyRef }, src);
  return ""; // resourceFieldRef: no resource accounting here
}

async function addEnvFrom(pod: V1Pod, from: V1EnvFromSource, src: DataSources, out: Record<string, string>): Promise<void> {
  const kind: RefKind = from.secretRef ? "Secret" : "ConfigMap";
  const ref = from.secretRef ?? from.configMapRef;
  if (!ref) return;
  const data = await readData(src, kind, nsOf(pod), ref.name);
  if (!data && !ref.optional) {
    throw new ContainerConfigError(`envFrom: ${kind} ${nsOf(pod)}/${ref.name} does not exist; expected it to exist (or set optional: true)`);
  }
  const prefix = from.prefix ?? "";
  for (const [k, v] of Object.entries(data ?? {})) out[`${prefix}${k}`] = v;
}

/**
 * The container's variables on top of `base` (the host's PATH and the like). Throws
 * {@link ContainerConfigError} for a missing non-optional Secret, ConfigMap or key.
 */
export async function resolveEnv(pod: V1Pod, container: V1Container, src: DataSources, base: Readonly<Record<string, string>>): Promise<Record<string, string>> {
  const defined: Record<string, string> = {};
  for (const from of container.envFrom ?? []) await addEnvFrom(pod, from, src, defined);
  for (const v of container.env ?? []) {
    const value = v.valueFrom ? await valueFrom(pod, v, src) : expandRefs(v.value ?? "", defined);
    if (value !== undefined) defined[v.name] = value;
  }
  return { ...base, ...defined };
}

/** `command` + `args` with `$(VAR)` expanded; the image's entrypoint is unknown, so `args` alone is the command. */
export function commandLine(container: V1Container, env: Readonly<Record<string, string>>): string[] {
  const argv = [...(container.command ?? []), ...(container.args ?? [])].map((a) => expandRefs(a, env));
  if (argv.length === 0) {
    throw new ContainerConfigError(`container ${container.name}: no command or args; the node agent ignores images, so expected spec.containers[].command`);
  }
  return argv;
}
