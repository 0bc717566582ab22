#!/usr/bin/env bash
# Liaison's main job on the embedded default (SQLite): the README's first command.
# Installs missing Debian packages, builds, and runs Liaison from ./.liaison/ (database and a
# generated master key and admin token, kept between runs). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cargo build --bin liaison
mkdir -p .liaison
[ -s .liaison/master.key ] || head -c 32 /dev/urandom | base64 > .liaison/master.key
[ -s .liaison/admin.token ] || head -c 24 /dev/urandom | base64 | tr -d '/+=' > .liaison/admin.token

export LIAISON_MASTER_KEY="$(cat .liaison/master.key)"
export LIAISON_ADMIN_TOKEN="$(cat .liaison/admin.token)"
export LIAISON_DATABASE_URL="${LIAISON_DATABASE_URL:-sqlite://.liaison/liaison.db?mode=rwc}"

bin=${CARGO_TARGET_DIR:-target}/debug/liaison
if [ -f deploy/demo-tenant.toml ]; then
  "$bin" tenant apply deploy/demo-tenant.toml
fi
echo "==> admin API token: $LIAISON_ADMIN_TOKEN"
echo "==> try: curl -H \"Authorization: Bearer \$(cat .liaison/admin.token)\" http://127.0.0.1:8080/api/v1/tenants"
exec "$bin" serve "$@"
