/**
 * Pod volumes as host directories. The directory conventions are shared with KWOK's exec and
 * with tests that look at what a pod wrote:
 *
 * - PVC `claim` in `ns` → `<root>/pvc/<ns>/<claim>` (kept across pods)
 * - NFS `server:/path` → `<root>/nfs/<server>/<path>` (kept across pods)
 * - emptyDir, Secret, ConfigMap, downward API, projected → `<root>/pods/<ns>_<pod>_<uid>/volumes/<volume>`
 * - hostPath → the host path itself
 *
 * Service-account tokens are never written (our pods get no API token).
 * @module
 */
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, normalize } from "node:path";
import type { V1Container, V1KeyToPath, V1Pod, V1Volume, V1VolumeProjection } from "@kubernetes/client-node";
import { ContainerConfigError, expandRefs, fieldValue } from "./env.ts";
import type { DataSources } from "./env.ts";

export function pvcDir(root: string, namespace: string, claim: string): string {
  return join(root, "pvc", namespace, claim);
}

export function nfsDir(root: string, server: string, path: string): string {
  return join(root, "nfs", server, normalize(`/${path}`));
}

/** The pod's private directory: logs, emptyDirs, rendered Secrets and ConfigMaps. */
export function podDir(root: string, pod: V1Pod): string {
  const m = pod.metadata ?? {};
  return join(root, "pods", `${m.namespace ?? "default"}_${m.name ?? "unnamed"}_${m.uid ?? "nouid"}`);
}

export type PreparedVolume = { readonly kind: "dir"; readonly path: string } | { readonly kind: "skip"; readonly reason: string };

interface FileEntry {
  readonly path: string;
  readonly content: string;
  readonly mode?: number;
}

function keyFiles(data: Readonly<Record<string, string>>, items: readonly V1KeyToPath[] | undefined, what: string): FileEntry[] {
  if (!items || items.length === 0) return Object.entries(data).map(([k, v]) => ({ path: k, content: v }));
  return items.map((it) => {
    if (!Object.hasOwn(data, it.key)) throw new ContainerConfigError(`${what} has no key "${it.key}"; expected every items[].key to exist`);
    return { path: it.path, content: data[it.key] ?? "", mode: it.mode };
  });
}

async function refFiles(pod: V1Pod, p: V1VolumeProjection, src: DataSources): Promise<FileEntry[]> {
  const ns = pod.metadata?.namespace ?? "default";
  const kind = p.secret ? "Secret" : "ConfigMap";
  const ref = p.secret ?? p.configMap ?? {};
  const data = await (p.secret ? src.secret(ns, ref.name ?? "") : src.configMap(ns, ref.name ?? ""));
  if (data) return keyFiles(data, ref.items, `${kind} ${ns}/${ref.name}`);
  if (ref.optional) return [];
  throw new ContainerConfigError(`volume: ${kind} ${ns}/${ref.name} does not exist; expected it to exist (or set optional: true)`);
}

async function sourceFiles(pod: V1Pod, p: V1VolumeProjection, src: DataSources): Promise<FileEntry[]> {
  if (p.secret || p.configMap) return refFiles(pod, p, src);
  if (p.downwardAPI) {
    return (p.downwardAPI.items ?? []).flatMap((it) => (it.fieldRef ? [{ path: it.path, content: fieldValue(pod, it.fieldRef.fieldPath), mode: it.mode }] : []));
  }
  return []; // serviceAccountToken, clusterTrustBundle: nothing for a pod without API access
}

function projections(v: V1Volume): V1VolumeProjection[] | undefined {
  if (v.secret) return [{ secret: { name: v.secret.secretName, items: v.secret.items, optional: v.secret.optional } }];
  if (v.configMap) return [{ configMap: v.configMap }];
  if (v.downwardAPI) return [{ downwardAPI: { items: v.downwardAPI.items } }];
  if (v.projected) return v.projected.sources ?? [];
  return undefined;
}

function defaultMode(v: V1Volume): number {
  return v.secret?.defaultMode ?? v.configMap?.defaultMode ?? v.downwardAPI?.defaultMode ?? v.projected?.defaultMode ?? 0o644;
}

function writeFiles(dir: string, files: readonly FileEntry[], mode: number): void {
  mkdirSync(dir, { recursive: true });
  for (const f of files) {
    const target = join(dir, normalize(f.path));
    if (!target.startsWith(`${dir}/`)) throw new ContainerConfigError(`volume file path "${f.path}" escapes the volume; expected a relative path without ..`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, f.content);
    chmodSync(target, f.mode ?? mode);
  }
}

function directVolume(v: V1Volume, pod: V1Pod, root: string): PreparedVolume | undefined {
  const ns = pod.metadata?.namespace ?? "default";
  if (v.persistentVolumeClaim) return { kind: "dir", path: pvcDir(root, ns, v.persistentVolumeClaim.claimName) };
  if (v.nfs) return { kind: "dir", path: nfsDir(root, v.nfs.server, v.nfs.path) };
  if (v.emptyDir) return { kind: "dir", path: join(podDir(root, pod), "volumes", v.name) };
  if (v.hostPath) return { kind: "dir", path: v.hostPath.path };
  if (v.ephemeral) return { kind: "dir", path: join(podDir(root, pod), "volumes", v.name) };
  return undefined;
}

/** Creates every volume's directory (and renders Secret/ConfigMap/downward API files); keyed by volume name. */
export async function prepareVolumes(pod: V1Pod, root: string, src: DataSources): Promise<Map<string, PreparedVolume>> {
  const out = new Map<string, PreparedVolume>();
  for (const v of pod.spec?.volumes ?? []) {
    const direct = directVolume(v, pod, root);
    if (direct?.kind === "dir") {
      if (!v.hostPath || v.hostPath.type === "DirectoryOrCreate") mkdirSync(direct.path, { recursive: true });
      out.set(v.name, direct);
      continue;
    }
    const sources = projections(v);
    if (!sources) {
      out.set(v.name, { kind: "skip", reason: `volume ${v.name}: unsupported source; expected persistentVolumeClaim, nfs, emptyDir, hostPath, secret, configMap, downwardAPI or projected` });
      continue;
    }
    const files: FileEntry[] = [];
    for (const s of sources) files.push(...(await sourceFiles(pod, s, src)));
    const dir = join(podDir(root, pod), "volumes", v.name);
    writeFiles(dir, files, defaultMode(v));
    out.set(v.name, { kind: "dir", path: dir });
  }
  return out;
}

export interface Mount {
  /** Host path bound onto `target`. */
  readonly source: string;
  /** Path the container sees. */
  readonly target: string;
  readonly readOnly: boolean;
  /** A single file (subPath to a file, termination log) rather than a directory. */
  readonly file: boolean;
}

function subPathSource(base: string, sub: string, volume: string): string {
  const rel = normalize(sub);
  if (isAbsolute(rel) || rel === ".." || rel.startsWith("../")) {
    throw new ContainerConfigError(`volumeMount ${volume}: subPath "${sub}" must be relative and stay inside the volume`);
  }
  const source = join(base, rel);
  if (!existsSync(source)) mkdirSync(source, { recursive: true });
  return source;
}

/**
 * The bind mounts of one container: its volumeMounts (with subPath/subPathExpr, readOnly)
 * plus the termination-message file. Mounts of skipped volumes are left out.
 */
export function containerMounts(
  container: V1Container,
  volumes: ReadonlyMap<string, PreparedVolume>,
  ctx: { readonly terminationFile: string; readonly env: Readonly<Record<string, string>> },
): Mount[] {
  const mounts: Mount[] = [];
  for (const vm of container.volumeMounts ?? []) {
    const vol = volumes.get(vm.name);
    if (!vol) throw new ContainerConfigError(`volumeMount ${vm.name}: no volume of that name in spec.volumes`);
    if (vol.kind === "skip") continue;
    const sub = vm.subPath || (vm.subPathExpr ? expandRefs(vm.subPathExpr, ctx.env) : "");
    const source = sub ? subPathSource(vol.path, sub, vm.name) : vol.path;
    mounts.push({ source, target: vm.mountPath, readOnly: vm.readOnly ?? false, file: existsSync(source) && statSync(source).isFile() });
  }
  const path = container.terminationMessagePath || "/dev/termination-log";
  mounts.push({ source: ctx.terminationFile, target: path, readOnly: false, file: true });
  return mounts;
}
