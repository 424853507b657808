#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and the demo.
#   scripts/postgres.sh start DIR   → initdb + start on a free port; prints the database URL
#   scripts/postgres.sh stop DIR    → stop it and remove DIR
# initdb refuses to run as root, so as root the cluster belongs to the `postgres` user.
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?directory}
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
[ -x "$bin/initdb" ] || { echo "PostgreSQL server binaries not found: apt-get install postgresql" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
start)
  mkdir -p "$dir"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  as_pg "$bin/initdb" -D "$dir/data" -U pulse -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  # Tests open many connections (several servers, pools); fsync off: throwaway data, faster tests.
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_preload_libraries=pg_stat_statements" start >/dev/null
  as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U pulse -d postgres -qc "CREATE DATABASE pulse" >/dev/null
  as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U pulse -d pulse -qc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
  echo "$port" > "$dir/port"
  echo "postgres://pulse@127.0.0.1:$port/pulse"
  ;;
stop)
  [ -d "$dir/data" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
