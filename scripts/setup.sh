#!/usr/bin/env bash
# Installs everything the product and its tests need, idempotently and cached:
#   Debian packages (PostgreSQL, openssl), Node 24 from the npm registry, npm packages,
#   and the Go-built components (kube-apiserver, kube-controller-manager, etcd, restic,
#   versitygw, kwok). A second run does nothing but check.
# Usage: scripts/setup.sh    (then: source scripts/env.sh to use the tools in a shell)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
source "$here/versions.sh"
start=$SECONDS

# Debian packages: only when something is missing (apt-get update is slow).
need_apt=()
command -v go >/dev/null || { echo "[setup] Go is required (the machine's toolchain builds the control plane)" >&2; exit 1; }
command -v kubectl >/dev/null || need_apt+=(kubernetes-client)
command -v openssl >/dev/null || need_apt+=(openssl)
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[[ -n $pg_bin && -x $pg_bin/initdb ]] || need_apt+=(postgresql)
command -v pg_dump >/dev/null || need_apt+=(postgresql-client)
if ((${#need_apt[@]})); then
  echo "[setup] installing Debian packages: ${need_apt[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >&2
fi

source "$here/node.sh"

# npm packages: reinstalled only when package-lock.json changes.
stamp="$root/node_modules/.pw-lock-hash"
hash=$(sha256sum "$root/package-lock.json" | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$hash" ]]; then
  echo "[setup] installing npm packages" >&2
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$hash" >"$stamp"
fi

"$here/build-go-tools.sh"
echo "[setup] ready in $((SECONDS - start))s (tools in $PW_BIN)" >&2
