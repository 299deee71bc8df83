# Versions of everything the project builds or downloads; the cache is keyed by them.
# Sourced by the other scripts.
NODE_VERSION=24.21.0
K8S_VERSION=v1.33.13
ETCD_VERSION=v3.5.21
RESTIC_VERSION=v0.18.1
VERSITYGW_VERSION=v1.8.0
KWOK_VERSION=v0.8.0

# Where built and downloaded tools live: outside the repository, shared by every checkout.
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"
export HOME
PW_CACHE=${PODWARDEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/podwarden}
PW_BIN=$PW_CACHE/bin
