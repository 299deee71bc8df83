#!/usr/bin/env bash
# Runs every test: type-check, lint, unit tests, then integration tests against a real
# control plane (kube-apiserver, kube-controller-manager, etcd), restic, an S3 server and
# PostgreSQL. Installs what is missing first (scripts/setup.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$(dirname "$here")"
"$here/setup.sh"
source "$here/env.sh"
echo "== typecheck" && npx tsc --noEmit -p .
echo "== lint" && npx eslint .
echo "== unit and integration tests"
node --test --test-reporter=spec --test-concurrency=1 \
  "api/**/*.test.ts" "webhook/**/*.test.ts" "apiserver/**/*.test.ts" "controller/**/*.test.ts" \
  "restic/**/*.test.ts" "kube/**/*.test.ts" "certs/**/*.test.ts" "test/**/*.test.ts"
