#!/usr/bin/env bash
# The JavaScript end-to-end suites (tests/js: the official phoenix client on Node, the dashboard in
# headless Chromium) against the Native AOT binary, on a database of their own.
#   PULSE_BINARY=dist/pulse PULSE_TEST_DATABASE_URL=postgres://pulse@127.0.0.1:PORT/pulse scripts/js-tests.sh WORKDIR
# PULSE_TEST_DATABASE_URL names a server (any database on it): a fresh database is created there
# for this run and dropped at the end. Screenshots and logs go to $PULSE_ARTIFACTS
# (default test-artifacts/js). WORKDIR receives the server's pid file, log and restart script.
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
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
pidfile=$work/server.pid

cleanup() {
  if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  fi
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

# The server in the background, and a restart script that stops it (SIGTERM, drain) and starts it
# again on the same port, waiting for /healthz.
cat >"$work/start.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
binary='$binary'; database_url='$database_url'
# exec all the way down: the pid written is pulse's own, which SIGTERM must reach.
(exec env \$(env | sed -n 's/^\\(PULSE_[^=]*\\)=.*/-u \\1/p') DATABASE_URL="\$database_url" PULSE_Shutdown__DrainSeconds=2 "\$binary" serve --urls '$url' >>'$work/server.log' 2>&1) &
echo \$! >'$pidfile'
for _ in \$(seq 1 100); do
  curl -fs '$url/healthz' >/dev/null 2>&1 && exit 0
  kill -0 "\$(cat '$pidfile')" 2>/dev/null || { echo "pulse exited; see $work/server.log" >&2; exit 1; }
  sleep 0.1
done
echo "pulse not healthy after 10 s; see $work/server.log" >&2; exit 1
EOF
cat >"$work/restart.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
pid=\$(cat '$pidfile')
kill -TERM "\$pid"
# The drain window is 2 s (PULSE_Shutdown__DrainSeconds), so pulse should be gone within 3 s; wait up
# to 35 s (the host's 30 s shutdown timeout and a margin) so that a slow exit is reported, not masked.
start=\$(date +%s%N)
for _ in \$(seq 1 350); do kill -0 "\$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "\$pid" 2>/dev/null; then echo "pulse \$pid still running 35 s after SIGTERM" >&2; exit 1; fi
echo "pulse \$pid exited \$(( (\$(date +%s%N) - start) / 1000000 )) ms after SIGTERM"
exec bash '$work/start.sh'
EOF
chmod +x "$work/start.sh" "$work/restart.sh"
: >"$work/server.log"
bash "$work/start.sh"
echo "pulse $(cat "$pidfile") on $url, database $database, event $event_id"

if [ ! -d "$root/tests/js/node_modules" ]; then
  npm ci --prefix "$root/tests/js" --no-audit --no-fund >"$work/npm.log" 2>&1 || { cat "$work/npm.log"; fail "npm ci failed"; }
fi

status=0
PULSE_URL=$url PULSE_API_KEY=$api_key PULSE_DATABASE_URL=$database_url PULSE_EVENT_ID=$event_id \
PULSE_RESTART_SCRIPT=$work/restart.sh PULSE_ARTIFACTS=$artifacts \
  node --test --test-concurrency=1 "$root/tests/js/" || status=$?
cp "$work/server.log" "$artifacts/server.log" 2>/dev/null || true
echo "artifacts: $artifacts"
[ "$status" = 0 ] || fail "JavaScript tests failed (exit $status); server log: $artifacts/server.log"
echo "JavaScript tests passed"
