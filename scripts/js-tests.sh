#!/usr/bin/env bash
# The JavaScript end-to-end suites (tests/js: the official phoenix client on Node, the dashboard in
# headless Chromium) against the Native AOT binary, on a database of their own.
#   PULSE_BINARY=dist/pulse PULSE_TEST_DATABASE_URL=postgres://pulse@127.0.0.1:PORT/pulse scripts/js-tests.sh WORKDIR
# PULSE_TEST_DATABASE_URL names a server (any database on it): a fresh database is created there
# for this run and dropped at the end. Screenshots and logs go to $PULSE_ARTIFACTS
# (default test-artifacts/js), one folder per variant. WORKDIR receives the servers' pid files, log
# and restart script. The suites run once per variant (PULSE_JS_VARIANTS, default all three):
#   direct            one node; the clients connect to it;
#   nginx             two nodes behind nginx with docs/nginx.conf as documented (scripts/nginx.sh);
#   nginx-keepalive   the same with /socket/ through the keep-alive upstream, so that upgrades arrive
#                     on upstream connections that served the page's plain requests (issue 10).
# The restart script restarts every node of the variant, one after the other.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:?usage: scripts/js-tests.sh WORKDIR}
fail() { echo "js-tests.sh: $*" >&2; exit 1; }

[ -n "${PULSE_BINARY:-}" ] || fail "PULSE_BINARY is not set: the Native AOT binary, built by ./publish.sh into dist/pulse"
[ -x "$PULSE_BINARY" ] || fail "PULSE_BINARY=$PULSE_BINARY is not an executable file: run ./publish.sh first"
[ -n "${PULSE_TEST_DATABASE_URL:-}" ] || fail "PULSE_TEST_DATABASE_URL is not set: a PostgreSQL server URL like postgres://pulse@127.0.0.1:5432/pulse"
command -v psql >/dev/null || fail "psql not found: apt-get install postgresql-client"
command -v node >/dev/null || fail "node not found"
if [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM_PATH:-}" ]; then
  [ "$(id -u)" = 0 ] || fail "Chromium is missing: sudo apt-get install -y chromium"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

binary=$(cd "$(dirname "$PULSE_BINARY")" && pwd)/$(basename "$PULSE_BINARY")
artifacts=${PULSE_ARTIFACTS:-$root/test-artifacts/js}
mkdir -p "$work" "$artifacts"
work=$(cd "$work" && pwd)
artifacts=$(cd "$artifacts" && pwd)

# postgres://user@host:port/db?query → the same server, database pulse_js_<pid>.
server_url=$PULSE_TEST_DATABASE_URL
query=""
case "$server_url" in *\?*) query="?${server_url#*\?}"; server_url=${server_url%%\?*} ;; esac
database=pulse_js_$$
database_url="${server_url%/*}/$database$query"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
variants=${PULSE_JS_VARIANTS:-direct nginx nginx-keepalive}

stop_servers() {
  for pidfile in "$work"/server-*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
  "$root/scripts/nginx.sh" stop "$work/nginx"
}
cleanup() {
  stop_servers
  psql "$PULSE_TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

psql "$PULSE_TEST_DATABASE_URL" -qc "CREATE DATABASE $database" >/dev/null

# The server sees none of this script's PULSE_* variables (PULSE_X__Y is Pulse configuration).
run_pulse() {
  env $(env | sed -n 's/^\(PULSE_[^=]*\)=.*/-u \1/p') DATABASE_URL="$database_url" PULSE_Shutdown__DrainSeconds=2 "$binary" "$@"
}

run_pulse migrate --database-url "$database_url" >"$work/migrate.log"
api_key=$(run_pulse api-key create --name js-tests | tail -n1)
[ -n "$api_key" ] || fail "api-key create printed no key"

# A running battle: started 20 minutes ago, ends in two hours, two sides of two hashtags, a few tweets.
event_id=$(psql "$database_url" -qtAX -v ON_ERROR_STOP=1 <<'SQL'
WITH e AS (
  INSERT INTO events (id, name, start_at, end_at)
  VALUES (gen_random_uuid(), 'JS: Barça vs Madrid', now() - interval '20 minutes', now() + interval '2 hours')
  RETURNING id),
k AS (
  INSERT INTO keywords (id, event_id, query, name)
  SELECT gen_random_uuid(), e.id, v.query, v.name FROM e,
    (VALUES ('Barça', '#ForçaBarça'), ('Barça', '#Visca'), ('Madrid', '#HalaMadrid'), ('Madrid', '#RM')) AS v(query, name)
  RETURNING id, name)
SELECT id FROM e;
SQL
)
psql "$database_url" -qX -v ON_ERROR_STOP=1 <<SQL >/dev/null
WITH entries AS (
  INSERT INTO uniq_entries (hashtags, user_mentions, flat_text, kind, created_at)
  SELECT ARRAY['seed'], ARRAY[]::text[], 'seed tweet ' || n, 1, now() - (n * interval '50 seconds')
    FROM generate_series(1, 12) AS n
  RETURNING id, created_at, flat_text)
INSERT INTO uniq_entry_keywords (uniq_entry_id, keyword_id, created_at)
SELECT entries.id, k.id, entries.created_at FROM entries
  JOIN keywords k ON k.event_id = '$event_id'
   AND k.name = CASE WHEN right(entries.flat_text, 1) IN ('1', '3', '5', '7', '9') THEN '#RM' ELSE '#Visca' END;
SQL

# node.sh start|restart PORT: a node in the background on PORT (its pid in server-PORT.pid), waiting
# for /healthz; restart stops it first (SIGTERM, drain). Its settings come from node.env.
printf "binary=%q\ndatabase_url=%q\nwork=%q\n" "$binary" "$database_url" "$work" >"$work/node.env"
cat >"$work/node.sh" <<'NODE'
#!/usr/bin/env bash
set -euo pipefail
source "$(dirname "$0")/node.env"
cmd=$1; port=$2; url="http://127.0.0.1:$port"; pidfile="$work/server-$port.pid"
if [ "$cmd" = restart ]; then
  pid=$(cat "$pidfile")
  kill -TERM "$pid"
  # The drain window is 2 s (PULSE_Shutdown__DrainSeconds), so pulse should be gone within 3 s; wait up
  # to 35 s (the host's 30 s shutdown timeout and a margin) so that a slow exit is reported, not masked.
  start=$(date +%s%N)
  for _ in $(seq 1 350); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then echo "pulse $pid still running 35 s after SIGTERM" >&2; exit 1; fi
  echo "pulse $pid exited $(( ($(date +%s%N) - start) / 1000000 )) ms after SIGTERM"
fi
# The server sees none of the caller's PULSE_* variables; exec all the way down, so that the pid
# written is pulse's own, which SIGTERM must reach.
(exec env $(env | sed -n 's/^\(PULSE_[^=]*\)=.*/-u \1/p') DATABASE_URL="$database_url" PULSE_Shutdown__DrainSeconds=2 \
  "$binary" serve --urls "$url" >>"$work/server.log" 2>&1) &
echo $! >"$pidfile"
for _ in $(seq 1 100); do
  curl -fs "$url/healthz" >/dev/null 2>&1 && exit 0
  kill -0 "$(cat "$pidfile")" 2>/dev/null || { echo "pulse exited; see $work/server.log" >&2; exit 1; }
  sleep 0.1
done
echo "pulse not healthy after 10 s; see $work/server.log" >&2; exit 1
NODE
: >"$work/server.log"

if [ ! -d "$root/tests/js/node_modules" ]; then
  npm ci --prefix "$root/tests/js" --no-audit --no-fund >"$work/npm.log" 2>&1 || { cat "$work/npm.log"; fail "npm ci failed"; }
fi

status=0
for variant in $variants; do
  case "$variant" in
    direct) ports=("$(free_port)") ;;
    nginx|nginx-keepalive) ports=("$(free_port)" "$(free_port)") ;;
    *) fail "unknown variant $variant (direct | nginx | nginx-keepalive)" ;;
  esac
  for port in "${ports[@]}"; do bash "$work/node.sh" start "$port"; done
  { echo '#!/usr/bin/env bash'; echo 'set -euo pipefail'; for port in "${ports[@]}"; do echo "bash '$work/node.sh' restart $port"; done; } >"$work/restart.sh"
  chmod +x "$work/restart.sh"
  via=nginx
  case "$variant" in
    direct) url="http://127.0.0.1:${ports[0]}"; via=direct ;;
    nginx) url=$("$root/scripts/nginx.sh" start "$work/nginx" "$(free_port)" "127.0.0.1:${ports[0]}" "127.0.0.1:${ports[1]}" documented) ;;
    nginx-keepalive) url=$("$root/scripts/nginx.sh" start "$work/nginx" "$(free_port)" "127.0.0.1:${ports[0]}" "127.0.0.1:${ports[1]}" keepalive-sockets) ;;
  esac
  echo "=== $variant: pulse on ${ports[*]}, clients on $url, database $database, event $event_id"
  PULSE_URL=$url PULSE_VIA=$via PULSE_API_KEY=$api_key PULSE_DATABASE_URL=$database_url PULSE_EVENT_ID=$event_id \
  PULSE_RESTART_SCRIPT=$work/restart.sh PULSE_ARTIFACTS=$artifacts/$variant \
    node --test --test-concurrency=1 "$root/tests/js/" || { status=$?; echo "variant $variant failed (exit $status)"; }
  if [ -f "$work/nginx/error.log" ]; then cp "$work/nginx/error.log" "$artifacts/$variant-nginx-error.log"; fi
  stop_servers
done
cp "$work/server.log" "$artifacts/server.log" 2>/dev/null || true
echo "artifacts: $artifacts"
[ "$status" = 0 ] || fail "JavaScript tests failed (exit $status); server log: $artifacts/server.log"
echo "JavaScript tests passed: $variants"
