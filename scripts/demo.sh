#!/usr/bin/env bash
# The README's first command: installs missing Debian packages, builds, and runs `liaison demo`:
# Liaison on an embedded SQLite file in ./.liaison/ (kept between runs, with a generated master
# key and admin token), the Gupy and suite simulators, a seeded demo tenant and a short scenario,
# then the URLs to open. Ctrl-C stops it. Options go to `liaison demo` (--tls, --bind ADDR,
# --database-url postgres://..., --no-scenario; see docs/demo.md).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cargo build --bin liaison
exec "${CARGO_TARGET_DIR:-target}/debug/liaison" demo "$@"
