/**
 * Command lines of etcd, kube-apiserver and kube-controller-manager for a loopback-only test
 * control plane (the envtest set, plus front-proxy flags for API aggregation). Pure.
 * @module
 */
import type { PkiFile } from "./pki.ts";

export interface EtcdArgsInput {
  readonly dataDir: string;
  readonly clientPort: number;
  readonly peerPort: number;
}

export function etcdArgs(i: EtcdArgsInput): string[] {
  const client = `http://127.0.0.1:${i.clientPort}`;
  const peer = `http://127.0.0.1:${i.peerPort}`;
  return [
    `--name=default`,
    `--data-dir=${i.dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    `--unsafe-no-fsync=true`,
    `--log-level=warn`,
  ];
}

export interface ApiserverArgsInput {
  readonly etcdPort: number;
  readonly securePort: number;
  readonly files: Readonly<Record<PkiFile, string>>;
  /** With kube-controller-manager the ServiceAccount admission plugin stays on (KCM makes the default SA). */
  readonly controllerManager: boolean;
}

export const SERVICE_CIDR = "10.0.0.0/24";

export function apiserverArgs(i: ApiserverArgsInput): string[] {
  const f = i.files;
  return [
    `--etcd-servers=http://127.0.0.1:${i.etcdPort}`,
    `--bind-address=127.0.0.1`,
    `--advertise-address=127.0.0.1`,
    `--secure-port=${i.securePort}`,
    `--tls-cert-file=${f.apiserverCert}`,
    `--tls-private-key-file=${f.apiserverKey}`,
    `--client-ca-file=${f.clientCaCert}`,
    `--authorization-mode=Node,RBAC`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    `--allow-privileged=true`,
    `--endpoint-reconciler-type=none`,
    `--enable-priority-and-fairness=false`,
    `--profiling=false`,
    `--service-account-issuer=https://127.0.0.1:${i.securePort}`,
    `--service-account-key-file=${f.saPub}`,
    `--service-account-signing-key-file=${f.saKey}`,
    `--requestheader-client-ca-file=${f.frontProxyCaCert}`,
    `--requestheader-allowed-names=front-proxy-client`,
    `--requestheader-username-headers=X-Remote-User`,
    `--requestheader-group-headers=X-Remote-Group`,
    `--requestheader-extra-headers-prefix=X-Remote-Extra-`,
    `--proxy-client-cert-file=${f.frontProxyClientCert}`,
    `--proxy-client-key-file=${f.frontProxyClientKey}`,
    `--kubelet-client-certificate=${f.kubeletClientCert}`,
    `--kubelet-client-key=${f.kubeletClientKey}`,
    ...(i.controllerManager ? [] : [`--disable-admission-plugins=ServiceAccount`]),
  ];
}

export interface ControllerManagerArgsInput {
  readonly kubeconfig: string;
  readonly files: Readonly<Record<PkiFile, string>>;
}

export function controllerManagerArgs(i: ControllerManagerArgsInput): string[] {
  return [
    `--kubeconfig=${i.kubeconfig}`,
    `--leader-elect=false`,
    `--secure-port=0`,
    `--controllers=*`,
    `--use-service-account-credentials=false`,
    `--root-ca-file=${i.files.servingCaCert}`,
    `--service-account-private-key-file=${i.files.saKey}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
  ];
}
