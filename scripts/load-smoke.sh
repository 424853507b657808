#!/usr/bin/env bash
# Smoke pass of every Pulse.LoadTests scenario against the AOT binary: correctness only
# (no missing delivery, exact final numbers, zero failed requests), never speed.
#   PULSE_BINARY=dist/pulse PULSE_TEST_DATABASE_URL=postgres://pulse@127.0.0.1:PORT/pulse \
#     scripts/load-smoke.sh WORKDIR
# Creates a fresh database on that server, migrates it, creates an API key, starts the binary on a
# free loopback port, runs each scenario with --smoke (each must exit 0), then stops the server and
# drops the database, whatever happens (trap).
set -euo pipefail
work=${1:?usage: load-smoke.sh WORKDIR}
: "${PULSE_BINARY:?PULSE_BINARY must name the AOT binary (dist/pulse)}"
: "${PULSE_TEST_DATABASE_URL:?PULSE_TEST_DATABASE_URL must name a PostgreSQL server URL}"
cd "$(dirname "$0")/.."
root=$(pwd)
binary=$(cd "$(dirname "$PULSE_BINARY")" && pwd)/$(basename "$PULSE_BINARY")
mkdir -p "$work"
work=$(cd "$work" && pwd)

# postgres://user@host:port/db → the same server, a database of our own.
server_url=${PULSE_TEST_DATABASE_URL%/*}
admin_db=${PULSE_TEST_DATABASE_URL##*/}
admin_db=${admin_db%%\?*}
db="pulse_load_smoke_$$"
db_url="$server_url/$db"
psql_admin() { psql "$server_url/$admin_db" -v ON_ERROR_STOP=1 -qAtc "$1"; }

server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    # Drain is bounded by Shutdown:DrainSeconds (set to 1 below); wait at most 15 s.
    for _ in $(seq 1 150); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  psql_admin "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

psql_admin "CREATE DATABASE $db" >/dev/null
# big-event reads database time per tick from pg_stat_statements (loaded by scripts/postgres.sh); where
# the server lacks it, the scenario says n/a.
psql "$db_url" -qAtc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null 2>&1 || true
DATABASE_URL=$db_url "$binary" migrate >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; exit 1; }
key=$(DATABASE_URL=$db_url "$binary" api-key create --name load-smoke 2>"$work/api-key.err" | tail -n1)
[ -n "$key" ] || { cat "$work/api-key.err" >&2; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
target="http://127.0.0.1:$port"
PULSE_Shutdown__DrainSeconds=1 "$binary" serve --urls "$target" --database-url "$db_url" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "$target/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; echo "load-smoke: server exited" >&2; exit 1; }
  sleep 0.1
done
curl -fsS "$target/healthz" >/dev/null || { echo "load-smoke: server not ready after 10 s" >&2; exit 1; }

# Build once, then run the dll per scenario (dotnet run would rebuild-check seven times).
dotnet build Pulse.LoadTests/Pulse.LoadTests.csproj -c Release -nologo -v q >"$work/build.log" 2>&1 \
  || { cat "$work/build.log" >&2; exit 1; }
dll=$(dotnet msbuild Pulse.LoadTests/Pulse.LoadTests.csproj -nologo -getProperty:TargetPath -p:Configuration=Release)

failed=()
for scenario in connections fanout flood join-storm rest big-event notify; do
  echo "--- load smoke: $scenario"
  if CI=1 timeout 180 dotnet "$dll" --scenario "$scenario" --smoke --target "$target" --api-key "$key" \
      --database-url "$db_url" --server-pid "$server_pid" --results "$work/results" >"$work/$scenario.log" 2>&1; then
    echo "ok"
  else
    rc=$?
    cat "$work/$scenario.log"
    echo "FAILED (exit $rc)"
    failed+=("$scenario")
  fi
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; echo "load-smoke: server died during $scenario" >&2; exit 1; }
done

# The Node.js baseline (docs/benchmarks.md ratios) must keep serving what the scenarios measure: the
# fan-out and the idle sockets, on the same database (Pulse's schema holds the baseline's tables).
echo "--- load smoke: node baseline (fanout, connections)"
(cd Pulse.LoadTests/Baselines/node-ws && npm ci --no-audit --no-fund >"$work/node-npm.log" 2>&1) \
  || { cat "$work/node-npm.log" >&2; exit 1; }
node_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
node Pulse.LoadTests/Baselines/node-ws/server.js --urls "http://127.0.0.1:$node_port" --database-url "$db_url" \
  --api-key "$key" >"$work/node-server.log" 2>&1 &
node_pid=$!
trap 'kill "$node_pid" 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$node_port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
for scenario in fanout connections; do
  if CI=1 timeout 120 dotnet "$dll" --scenario "$scenario" --smoke --target "http://127.0.0.1:$node_port" --api-key "$key" \
      --database-url "$db_url" --server-pid "$node_pid" --results "$work/results" >"$work/node-$scenario.log" 2>&1; then
    echo "ok: node $scenario"
  else
    rc=$?
    cat "$work/node-$scenario.log" "$work/node-server.log"
    echo "FAILED (exit $rc)"
    failed+=("node-$scenario")
  fi
done
kill "$node_pid" 2>/dev/null || true

if [ ${#failed[@]} -gt 0 ]; then
  echo "load smoke failed: ${failed[*]}" >&2
  exit 1
fi
echo "load smoke: all 7 scenarios passed, and the node baseline's 2"
