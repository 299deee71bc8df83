#!/usr/bin/env bash
# Builds the real components the tests and the sandbox run, with Go from the module proxy:
# kube-apiserver, kube-controller-manager and kube-scheduler, etcd, restic, versitygw (S3) and kwok.
# Idempotent: each tool is built once per version into $PW_CACHE/tools/<name>-<version>/ and
# linked into $PW_BIN. Nothing is written inside the repository.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.sh"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
mkdir -p "$PW_BIN" "$PW_CACHE/tools"

log() { printf '[build-go-tools] %s\n' "$*" >&2; }

# ensure NAME VERSION BINARIES...: runs build_NAME into the versioned dir when missing, then links.
ensure() {
  local name=$1 version=$2; shift 2
  local dir="$PW_CACHE/tools/$name-$version" b missing=0
  for b in "$@"; do [[ -x "$dir/$b" ]] || missing=1; done
  if [[ ! -f "$dir/.complete" || $missing == 1 ]]; then
    log "building $name $version (cached afterwards in $dir)"
    local start=$SECONDS
    rm -rf "$dir.partial" && mkdir -p "$dir.partial"
    "build_$name" "$version" "$dir.partial"
    touch "$dir.partial/.complete"
    rm -rf "$dir" && mv "$dir.partial" "$dir"
    log "built $name $version in $((SECONDS - start))s"
  fi
  for b in "$@"; do ln -sfn "$dir/$b" "$PW_BIN/$b"; done
}

build_restic() { GOBIN="$2" go install "github.com/restic/restic/cmd/restic@$1"; }
build_versitygw() { GOBIN="$2" go install "github.com/versity/versitygw/cmd/versitygw@$1"; }
build_kwok() { GOBIN="$2" go install "sigs.k8s.io/kwok/cmd/kwok@$1"; }

# etcd's own go.mod has replace directives, so `go install` refuses it: build through a wrapper.
build_etcd() {
  local work; work=$(mktemp -d)
  cat >"$work/go.mod" <<MOD
module podwarden.local/etcdbin
go 1.24.0
require go.etcd.io/etcd/server/v3 $1
tool go.etcd.io/etcd/server/v3
MOD
  (cd "$work" && go mod tidy && go build -trimpath -ldflags "-s -w" -o "$2/etcd" go.etcd.io/etcd/server/v3)
  rm -rf "$work"
}

# k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with local paths;
# a wrapper module replaces each with its published v0.X.Y tag instead (list read from the real
# go.mod, so it can never drift from the release).
build_kubernetes() {
  local v=$1 out=$2 work; work=$(mktemp -d)
  local minor=${v#v1.}; minor=${minor%%.*}
  local gomod; gomod=$(go mod download -json "k8s.io/kubernetes@$v" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    echo "module podwarden.local/k8sbins"
    grep -E '^(go|godebug) ' "$gomod"
    echo "require k8s.io/kubernetes $v"
    grep -oE '^\s+k8s\.io/[a-z0-9-]+ v0\.0\.0$' "$gomod" | awk -v sv="v0.${v#v1.}" '{print "replace "$1" => "$1" "sv}'
    printf 'tool (\n\tk8s.io/kubernetes/cmd/kube-apiserver\n\tk8s.io/kubernetes/cmd/kube-controller-manager\n\tk8s.io/kubernetes/cmd/kube-scheduler\n)\n'
  } >"$work/go.mod"
  local x="" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    x="$x -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=2000-01-01T00:00:00Z"
  done
  (cd "$work" && go mod tidy && go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "-s -w$x" -o "$out/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler)
  rm -rf "$work"
}

only=${1:-all}
want() { [[ $only == all || $only == "$1" ]]; }
want restic && ensure restic "$RESTIC_VERSION" restic
want versitygw && ensure versitygw "$VERSITYGW_VERSION" versitygw
want etcd && ensure etcd "$ETCD_VERSION" etcd
want kwok && ensure kwok "$KWOK_VERSION" kwok
want kubernetes && ensure kubernetes "$K8S_VERSION" kube-apiserver kube-controller-manager kube-scheduler
exit 0
