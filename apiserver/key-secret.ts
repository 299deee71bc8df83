/**
 * Unlocked repository keys kept in one Secret of the server's own namespace, so that a new pod,
 * whose emptyDir is empty, opens the repositories an earlier pod opened without scrypt
 * (docs/snapshots-cold-start.md). Each entry is what restic/key-store.ts seals: the master key
 * under HKDF-SHA-256 of the repository's password, bound to the repository's location, named
 * like the key file of the emptyDir. Whoever reads the Secret learns nothing without the
 * password.
 *
 * The Secret is read once, with the first requests of the process; this process's own saves keep
 * its copy current (another replica's entries are seen at the next start). Entries are added and
 * removed one at a time by JSON merge patches, so replicas never overwrite each other's. A
 * missing or unreadable Secret leaves the store empty: keys are then derived as before.
 * @module
 */
import { describeCause } from "../restic/errors.ts";
import { keyFileName, openKey, sealKey } from "../restic/key-store.ts";
import type { KeyStore, KeySweep } from "../restic/key-store.ts";
import type { Logger } from "../kube/log.ts";
import type { KubeClient } from "../kube/rest.ts";

export interface SecretKeyStoreDeps {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly name: string;
  readonly log: Logger;
}

interface SecretDoc {
  readonly data?: Readonly<Record<string, string>> | null;
}

const ENTRY = /^[0-9a-f]{64}\.key$/;

/** The entries of a Secret's data: sealed bytes by name; anything else in it is left alone. */
export function entriesOf(secret: SecretDoc): Map<string, Buffer> {
  return new Map(
    Object.entries(secret.data ?? {})
      .filter(([name, value]) => ENTRY.test(name) && typeof value === "string")
      .map(([name, value]) => [name, Buffer.from(value, "base64")]),
  );
}

export interface SecretKeyStore extends KeyStore {
  /** How many entries the Secret held when it was read (0 when it could not be read). */
  held(): Promise<number>;
}

/** The key store in Secret `namespace/name`; its GET goes out now. */
export function secretKeyStore(deps: SecretKeyStoreDeps): SecretKeyStore {
  const path = `/api/v1/namespaces/${encodeURIComponent(deps.namespace)}/secrets/${encodeURIComponent(deps.name)}`;
  const secret = `${deps.namespace}/${deps.name}`;
  const entries = deps.client.request<SecretDoc>("GET", path).then(entriesOf, (err: unknown) => {
    deps.log.warn({ secret, error: describeCause(err) }, "key Secret not read; repository keys will be derived with scrypt");
    return new Map<string, Buffer>();
  });
  /** When this process first saw an entry unused, by name. */
  const unusedSince = new Map<string, number>();
  const patch = (data: Record<string, string | null>): Promise<unknown> =>
    deps.client.request("PATCH", path, { body: { data }, contentType: "application/merge-patch+json" });

  const read = entries.then((e) => e.size);
  return {
    held: () => read,
    async load(location, password) {
      const sealed = (await entries).get(keyFileName(location));
      return sealed === undefined ? undefined : openKey(location, password, sealed);
    },
    async save(location, password, entry) {
      const name = keyFileName(location);
      const sealed = Buffer.from(sealKey(location, password, entry));
      (await entries).set(name, sealed);
      await patch({ [name]: sealed.toString("base64") });
    },
    async sweep(o: KeySweep) {
      const held = await entries;
      const stale: string[] = [];
      for (const name of held.keys()) {
        if (o.keep.has(name)) {
          unusedSince.delete(name);
          continue;
        }
        const since = unusedSince.get(name) ?? o.now;
        unusedSince.set(name, since);
        if (o.now - since >= o.olderThanMs) stale.push(name);
      }
      if (stale.length === 0) return [];
      await patch(Object.fromEntries(stale.map((name) => [name, null])));
      for (const name of stale) {
        held.delete(name);
        unusedSince.delete(name);
      }
      return stale;
    },
  };
}
