/**
 * Discovery documents: aggregated discovery (apidiscovery.k8s.io v2/v2beta1) and the legacy
 * APIGroupList, APIGroup and APIResourceList.
 * @module
 */
import { createHash } from "node:crypto";
import { SNAPSHOT_API_VERSION, SNAPSHOT_GROUP, VERSION } from "../api/group.ts";
import { SNAPSHOT_CATEGORIES, SNAPSHOT_KIND, SNAPSHOT_RESOURCE, SNAPSHOT_SHORT_NAMES, SNAPSHOT_SINGULAR, SNAPSHOT_VERBS } from "../api/snapshot-names.ts";
import type { DiscoveryVersion } from "./negotiate.ts";

const GROUP_VERSION = { groupVersion: SNAPSHOT_API_VERSION, version: VERSION } as const;

export function apiResourceList(): Record<string, unknown> {
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: SNAPSHOT_API_VERSION,
    resources: [
      {
        name: SNAPSHOT_RESOURCE,
        singularName: SNAPSHOT_SINGULAR,
        namespaced: true,
        kind: SNAPSHOT_KIND,
        verbs: [...SNAPSHOT_VERBS],
        shortNames: [...SNAPSHOT_SHORT_NAMES],
        categories: [...SNAPSHOT_CATEGORIES],
      },
    ],
  };
}

function apiGroupBody(): Record<string, unknown> {
  return { name: SNAPSHOT_GROUP, versions: [GROUP_VERSION], preferredVersion: GROUP_VERSION };
}

export function apiGroup(): Record<string, unknown> {
  return { kind: "APIGroup", apiVersion: "v1", ...apiGroupBody() };
}

export function apiGroupList(): Record<string, unknown> {
  return { kind: "APIGroupList", apiVersion: "v1", groups: [apiGroupBody()] };
}

export function aggregatedDiscovery(version: DiscoveryVersion): Record<string, unknown> {
  return {
    kind: "APIGroupDiscoveryList",
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: [
      {
        metadata: { name: SNAPSHOT_GROUP },
        versions: [
          {
            version: VERSION,
            freshness: "Current",
            resources: [
              {
                resource: SNAPSHOT_RESOURCE,
                singularResource: SNAPSHOT_SINGULAR,
                scope: "Namespaced",
                responseKind: { group: SNAPSHOT_GROUP, version: VERSION, kind: SNAPSHOT_KIND },
                verbs: [...SNAPSHOT_VERBS],
                shortNames: [...SNAPSHOT_SHORT_NAMES],
                categories: [...SNAPSHOT_CATEGORIES],
              },
            ],
          },
        ],
      },
    ],
  };
}

/** A serialized document and its strong ETag (quoted hex of its SHA-256). */
export interface Tagged {
  readonly body: string;
  readonly etag: string;
}

export function tagged(doc: unknown): Tagged {
  const body = JSON.stringify(doc);
  return { body, etag: `"${createHash("sha256").update(body).digest("hex")}"` };
}

/** True when an If-None-Match header names `etag` (or `*`). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(",").some((t) => {
    const v = t.trim().replace(/^W\//, "");
    return v === "*" || v === etag;
  });
}
