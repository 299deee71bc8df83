/**
 * Deleting a namespace must never delete backups. When a namespace is deleted, Kubernetes'
 * namespace controller lists every namespaced resource it can delete, Snapshots included, and
 * deletes each one. Those deletes are answered as done without forgetting any restic snapshot;
 * the rows go away on their own once the namespace's BackupPolicies are gone (see
 * docs/snapshots-namespace-deletion.md).
 * @module
 */

/**
 * Who the namespace controller is: its own ServiceAccount when kube-controller-manager runs
 * with `--use-service-account-credentials` (kubeadm and most distributions), else
 * kube-controller-manager's own user.
 */
export const NAMESPACE_CONTROLLER_USERS: readonly string[] = [
  "system:serviceaccount:kube-system:namespace-controller",
  "system:kube-controller-manager",
];

/**
 * kube-controller-manager names each controller's client in its User-Agent:
 * `kube-controller-manager/v1.33.1 (linux/amd64) kubernetes/abcdef0/namespace-controller`.
 * This catches a controller manager that runs with some other credentials. Trusting the header
 * is safe here: it can only turn a delete into a no-op, never allow anything.
 */
const NAMESPACE_CONTROLLER_AGENT = /^kube-controller-manager\/\S+ .*\/namespace-controller$/;

export interface Requester {
  readonly username: string;
  readonly userAgent?: string | undefined;
}

/** True when this delete comes from the namespace controller emptying a namespace. */
export function isNamespaceCleanup(who: Requester): boolean {
  if (NAMESPACE_CONTROLLER_USERS.includes(who.username)) return true;
  return who.userAgent !== undefined && NAMESPACE_CONTROLLER_AGENT.test(who.userAgent);
}
