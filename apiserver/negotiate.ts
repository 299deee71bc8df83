/**
 * Content negotiation for a JSON-only server: Accept is parsed into media ranges (ordered by q)
 * and the first one this endpoint can serve wins: Table, PartialObjectMetadata(List),
 * aggregated discovery, or plain JSON. Protobuf, CBOR, YAML… are skipped.
 * @module
 */
import { notAcceptable } from "./errors.ts";

export const META_VERSIONS = ["v1", "v1beta1"] as const;
export type MetaVersion = (typeof META_VERSIONS)[number];
export const DISCOVERY_VERSIONS = ["v2", "v2beta1"] as const;
export type DiscoveryVersion = (typeof DISCOVERY_VERSIONS)[number];

export type Outcome =
  | { readonly kind: "json" }
  | { readonly kind: "table"; readonly version: MetaVersion }
  | { readonly kind: "partial"; readonly version: MetaVersion; readonly list: boolean }
  | { readonly kind: "discovery"; readonly version: DiscoveryVersion };

/** What an endpoint can produce besides plain JSON. */
export interface Offer {
  readonly table?: boolean;
  /** "item" for get/watch (PartialObjectMetadata), "list" for lists (PartialObjectMetadataList). */
  readonly partial?: "item" | "list";
  readonly discovery?: boolean;
}

export interface MediaRange {
  readonly type: string;
  readonly subtype: string;
  readonly params: ReadonlyMap<string, string>;
  readonly q: number;
}

function parseRange(part: string): MediaRange | undefined {
  const [mediaType = "", ...rawParams] = part.split(";").map((s) => s.trim());
  const slash = mediaType.indexOf("/");
  if (slash <= 0 || slash === mediaType.length - 1) return undefined;
  const params = new Map<string, string>();
  let q = 1;
  for (const p of rawParams) {
    const eq = p.indexOf("=");
    if (eq <= 0) continue;
    const key = p.slice(0, eq).trim().toLowerCase();
    const value = p.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1");
    if (key === "q") q = Number.isFinite(Number(value)) ? Number(value) : 0;
    else params.set(key, value);
  }
  return { type: mediaType.slice(0, slash).toLowerCase(), subtype: mediaType.slice(slash + 1).toLowerCase(), params, q };
}

/** Media ranges with q > 0, highest q first (stable for equal q). */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (header === undefined || header.trim() === "") return [];
  return header
    .split(",")
    .map((p) => parseRange(p))
    .filter((r): r is MediaRange => r !== undefined && r.q > 0)
    .map((r, i) => ({ r, i }))
    .sort((a, b) => b.r.q - a.r.q || a.i - b.i)
    .map(({ r }) => r);
}

function isMetaVersion(v: string | undefined): v is MetaVersion {
  return v === "v1" || v === "v1beta1";
}

function isJsonRange(r: MediaRange): boolean {
  return (r.type === "application" && (r.subtype === "json" || r.subtype === "*")) || (r.type === "*" && r.subtype === "*");
}

type Matcher = (v: string | undefined, g: string | undefined, offer: Offer) => Outcome | undefined;

const BY_AS: Readonly<Record<string, Matcher>> = {
  Table: (v, g, offer) => (offer.table && g === "meta.k8s.io" && isMetaVersion(v) ? { kind: "table", version: v } : undefined),
  PartialObjectMetadata: (v, g, offer) =>
    offer.partial === "item" && g === "meta.k8s.io" && isMetaVersion(v) ? { kind: "partial", version: v, list: false } : undefined,
  PartialObjectMetadataList: (v, g, offer) =>
    offer.partial === "list" && g === "meta.k8s.io" && isMetaVersion(v) ? { kind: "partial", version: v, list: true } : undefined,
  APIGroupDiscoveryList: (v, g, offer) =>
    offer.discovery && g === "apidiscovery.k8s.io" && (v === "v2" || v === "v2beta1") ? { kind: "discovery", version: v } : undefined,
};

function matchAs(r: MediaRange, offer: Offer): Outcome | undefined {
  const matcher = BY_AS[r.params.get("as") ?? ""];
  return matcher?.(r.params.get("v"), r.params.get("g"), offer);
}

/** The first acceptable outcome, or undefined (→ 406). No Accept header means JSON. */
export function negotiate(accept: string | undefined, offer: Offer): Outcome | undefined {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return accept === undefined || accept.trim() === "" ? { kind: "json" } : undefined;
  for (const r of ranges) {
    if (!isJsonRange(r)) continue;
    if (r.type === "*" || !r.params.has("as")) return { kind: "json" };
    const outcome = matchAs(r, offer);
    if (outcome) return outcome;
  }
  return undefined;
}

/** negotiate, or throws 406 NotAcceptable. */
export function negotiateOrThrow(accept: string | undefined, offer: Offer): Outcome {
  const outcome = negotiate(accept, offer);
  if (outcome === undefined) throw notAcceptable(["application/json"]);
  return outcome;
}

export const DISCOVERY_CONTENT_TYPE = (v: DiscoveryVersion): string =>
  `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`;
