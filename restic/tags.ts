/**
 * The tags the product writes on every restic snapshot (`policy=…`, `run=…`, `pvc=…`), read back.
 * @module
 */
import { RESTIC_TAG_KEYS } from "../api/group.ts";
import type { ResticTagKey } from "../api/group.ts";

export type ParsedTags = { [K in ResticTagKey]?: string } & { readonly other: string[] };

const KEYS: ReadonlySet<string> = new Set(RESTIC_TAG_KEYS);

/**
 * Splits restic tags into the product's keys and everything else. A key's first non-empty
 * `key=value` tag wins; repeats, empty values and foreign tags are kept in `other`, in order.
 */
export function parseTags(tags: readonly string[] | null | undefined): ParsedTags {
  const out: { [K in ResticTagKey]?: string } & { other: string[] } = { other: [] };
  for (const tag of tags ?? []) {
    const key = productKeyOf(tag);
    if (key !== undefined && out[key] === undefined) out[key] = tag.slice(key.length + 1);
    else out.other.push(tag);
  }
  return out;
}

/** Just the product's keys of parseTags (what grouping needs), without collecting the other tags. */
export function productTags(tags: readonly string[] | null | undefined): { [K in ResticTagKey]?: string } {
  const out: { [K in ResticTagKey]?: string } = {};
  if (!tags) return out;
  for (const tag of tags) {
    const key = productKeyOf(tag);
    if (key !== undefined && out[key] === undefined) out[key] = tag.slice(key.length + 1);
  }
  return out;
}

/** The product key of a `key=value` tag with a non-empty value; undefined for any other tag. */
function productKeyOf(tag: string): ResticTagKey | undefined {
  const eq = tag.indexOf("=");
  if (eq <= 0 || eq === tag.length - 1) return undefined;
  const key = tag.slice(0, eq);
  return KEYS.has(key) ? (key as ResticTagKey) : undefined;
}

/** The tags for one PVC's snapshot of one run, in the order the product writes them. */
export function formatTags(values: { readonly [K in ResticTagKey]: string }): string[] {
  return RESTIC_TAG_KEYS.map((key) => `${key}=${values[key]}`);
}
