#!/usr/bin/env bash
# The whole test suite, on SQLite and then on PostgreSQL (the README's test command).
# Installs missing Debian packages first; starts and removes its own throwaway PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

# The embed tests' identity providers and browser driver (npm, pinned by the lock file).
if [ ! -d tests/js/node_modules ]; then
  echo "==> npm ci (tests/js)"
  (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
fi

if cargo nextest --version >/dev/null 2>&1; then
  run_tests=(cargo nextest run --workspace --no-fail-fast)
  build_tests=(cargo nextest run --workspace --no-run)
else
  run_tests=(cargo test --workspace --no-fail-fast)
  build_tests=(cargo test --workspace --no-run)
fi

started=$(date +%s)
echo "==> building"
"${build_tests[@]}"
echo "==> tests on SQLite"
"${run_tests[@]}"
echo "==> tests on PostgreSQL"
scripts/with-postgres.sh "${run_tests[@]}"
echo "==> all tests passed on SQLite and PostgreSQL in $(( $(date +%s) - started ))s"
