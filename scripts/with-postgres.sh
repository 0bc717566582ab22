#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL on a loopback port, then stops and deletes it.
# The command sees LIAISON_TEST_DATABASE_URL (a maintenance URL: tests create one database each).
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "error: PostgreSQL server binaries not found (run scripts/install-deps.sh)" >&2; exit 1; }

dir=$(mktemp -d /tmp/liaison-pg.XXXXXX)
port=${LIAISON_TEST_PG_PORT:-$(( 20000 + RANDOM % 20000 ))}
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$dir"
  as_owner=(runuser -u postgres --)
fi
cleanup() {
  "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"${as_owner[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
"${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-k $dir -h 127.0.0.1 -p $port -c fsync=off -c max_connections=400" start >/dev/null

export LIAISON_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "==> PostgreSQL on 127.0.0.1:$port"
"$@"
