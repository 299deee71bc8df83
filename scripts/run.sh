#!/usr/bin/env bash
# Runs the product in a local sandbox: a real control plane, an S3 server, our parts and a demo
# workload (see scripts/sandbox.ts). Installs what is missing first. Ctrl-C stops everything.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$(dirname "$here")"
"$here/setup.sh"
source "$here/env.sh"
exec node scripts/sandbox.ts "$@"
