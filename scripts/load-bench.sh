#!/usr/bin/env bash
# One measured run of a docs/design.md §10 budget (docs/benchmarks.md): server and PostgreSQL on core 0,
# the load tool on core 1. Each run starts a fresh server process and stops it afterwards.
#   scripts/load-bench.sh pulse|baseline|node CASE OUTDIR
# Needs: dist/pulse (./publish.sh), a PostgreSQL from `scripts/postgres.sh start $PG_DIR`
# (PG_DIR, default /tmp/bench-pg) holding databases `pulse` (migrated by pulse) and `baseline`
# (Pulse.LoadTests/schema.sql); the load tool and the baseline built in Release.
# CASE: connections | connections5k | connections5k-after-request | overflow | fanout5k | fanout19k | flood | join-storm | rest | wrk | wrk-post
#       | notify1 | notify100 | notify-two-nodes | big-event (ROWS=…) | startup
# PULSE_BINARY (default dist/pulse) picks the binary, e.g. to measure two builds side by side.
set -euo pipefail
kind=${1:?pulse|baseline|node}; case_name=${2:?case}; out=${3:?outdir}
cd "$(dirname "$0")/.."
root=$(pwd)
pg_dir=${PG_DIR:-/tmp/bench-pg}
pg_port=$(cat "$pg_dir/port")
mkdir -p "$out"
out=$(cd "$out" && pwd)
tool=$(dotnet msbuild Pulse.LoadTests/Pulse.LoadTests.csproj -nologo -getProperty:TargetPath -p:Configuration=Release)
baseline=$(dotnet msbuild Pulse.LoadTests/Baselines/Pulse.Baseline/Pulse.Baseline.csproj -nologo -getProperty:TargetPath -p:Configuration=Release)

# Everything measured runs at nice $PRIO (default -11, as high as BenchmarkDotNet sets itself), so
# that other work on the shared machine disturbs the figures less; as root only.
prio=${PRIO:--11}
[ "$(id -u)" = 0 ] || prio=0
pin() { taskset -c "$1" nice -n "$prio" "${@:2}"; }
# PostgreSQL on core 0 with the server: the postmaster and its children (new backends inherit).
pg_pid=$(head -n1 "$pg_dir/data/postmaster.pid")
for p in "$pg_pid" $(pgrep -P "$pg_pid"); do taskset -a -cp 0 "$p" >/dev/null; renice -n "$prio" -p "$p" >/dev/null; done

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
target="http://127.0.0.1:$port"
if [ "$kind" = pulse ]; then
  db_url="postgres://pulse@127.0.0.1:$pg_port/pulse"
  key=$(cat "$pg_dir/pulse-key")
  pulse_binary=${PULSE_BINARY:-$root/dist/pulse}
  start_server() { taskset -c 0 nice -n "$prio" "$pulse_binary" serve --urls "$target" --database-url "$db_url" >"$out/server.log" 2>&1 & }
elif [ "$kind" = node ]; then
  # The Node.js baseline (Pulse.LoadTests/Baselines/node-ws, `npm ci` there first) on the baseline database.
  db_url="postgres://pulse@127.0.0.1:$pg_port/baseline"
  key=testkey
  start_server() { taskset -c 0 nice -n "$prio" node "$root/Pulse.LoadTests/Baselines/node-ws/server.js" --urls "$target" --database-url "$db_url" --api-key "$key" >"$out/server.log" 2>&1 & }
else
  db_url="postgres://pulse@127.0.0.1:$pg_port/baseline"
  key=testkey
  start_server() { taskset -c 0 nice -n "$prio" dotnet "$baseline" --urls "$target" --database-url "$db_url" --api-key "$key" >"$out/server.log" 2>&1 & }
fi

if [ "$case_name" = startup ]; then
  # exec → first /healthz 200, polled every 1 ms over a fresh connection; idle RSS 5 s later.
  pin 1 python3 - "$prio" "$kind" "$root" "$target" "$db_url" "$key" "$baseline" "$port" >"$out/startup.json" <<'EOF'
import json, os, socket, subprocess, sys, time
prio, kind, root, target, db_url, key, baseline, port = sys.argv[1:]
cmd = ["taskset", "-c", "0", "nice", "-n", prio] + ([os.environ.get("PULSE_BINARY", root + "/dist/pulse"), "serve", "--urls", target, "--database-url", db_url] if kind == "pulse"
       else ["node", root + "/Pulse.LoadTests/Baselines/node-ws/server.js", "--urls", target, "--database-url", db_url, "--api-key", key] if kind == "node"
       else ["dotnet", baseline, "--urls", target, "--database-url", db_url, "--api-key", key])
t0 = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
ready = None
while time.monotonic() - t0 < 20:
    try:
        s = socket.create_connection(("127.0.0.1", int(port)), timeout=1)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        if s.recv(64).startswith(b"HTTP/1.1 200"):
            ready = time.monotonic() - t0; s.close(); break
        s.close()
    except OSError:
        pass
    time.sleep(0.001)
time.sleep(5)
rss = int(open(f"/proc/{p.pid}/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
p.terminate(); p.wait(timeout=20)
print(json.dumps({"ready_ms": None if ready is None else round(ready * 1000, 1), "idle_rss_mib": round(rss / 1048576, 1)}))
EOF
  cat "$out/startup.json"; echo
  exit 0
fi

start_server
server_pid=$!
cleanup() { kill -TERM "$server_pid" 2>/dev/null || true; for _ in $(seq 1 200); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done; kill -KILL "$server_pid" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 200); do curl -fsS "$target/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
curl -fsS "$target/healthz" >/dev/null
# `dotnet pulse-baseline.dll` is the server process itself (the host execs nothing further).
sleep 1

run_tool() { CI=1 pin 1 dotnet "$tool" --target "$target" --api-key "$key" --database-url "$db_url" \
  --server-pid "$server_pid" --results "$out/results" "$@" ${EXTRA_ARGS:-}; }
rc=0
# wrk with 64 keep-alive connections for 10 s on core 1 (extra wrk arguments, then the URL); writes
# $out/wrk.json: requests, non-2xx, rate, and the server's CPU seconds (utime+stime) over the run.
run_wrk() {
  local cpu0 cpu1 requests non2xx tick
  cpu0=$(awk '{print $14+$15}' "/proc/$server_pid/stat")
  pin 1 wrk -t1 -c64 -d10s -H "Authorization: Bearer $key" "$@" >"$out/tool.log" 2>&1 || rc=$?
  cpu1=$(awk '{print $14+$15}' "/proc/$server_pid/stat")
  requests=$(awk '/requests in/ {print $1}' "$out/tool.log")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$out/tool.log")
  tick=$(getconf CLK_TCK)
  python3 -c "import json; c=($cpu1-$cpu0)/$tick; r=$requests; print(json.dumps({'requests': r, 'non2xx': int('${non2xx:-0}' or 0), 'rps': round(r/10.0), 'server_cpu_s': c, 'cpu_us_per_request': round(c*1e6/r, 1)}))" >"$out/wrk.json"
  cat "$out/wrk.json"
}
case "$case_name" in
  connections) run_tool --scenario connections --connections 19000 --workers 2 --duration 10 >"$out/tool.log" 2>&1 || rc=$? ;;
  # 5,000 idle joined sockets by either upgrade path: the first request of a connection, or after a
  # GET /healthz on it (as nginx's keep-alive upstream connections bring them).
  connections5k) run_tool --scenario connections --connections 5000 --duration 10 >"$out/tool.log" 2>&1 || rc=$? ;;
  connections5k-after-request) run_tool --scenario connections --connections 5000 --duration 10 --upgrade-after-request >"$out/tool.log" 2>&1 || rc=$? ;;
  overflow)
    # 19,000 held for 40 s; once all are joined, 1,000 more try to join: beyond the fd limit less the
    # reserve they must get 503 while the 19,000 stay up and the server lives.
    run_tool --scenario connections --connections 19000 --workers 2 --duration 40 >"$out/tool.log" 2>&1 &
    held=$!
    for _ in $(seq 1 240); do grep -q "holding 19000 joined sockets, [1-9]" "$out/tool.log" && break; sleep 0.5; done
    run_tool --scenario connections --connections 1000 --duration 3 >"$out/overflow.log" 2>&1 || echo "overflow run exit $? (expected 1)" >>"$out/overflow.log"
    wait "$held" || rc=$?
    kill -0 "$server_pid" && echo "server alive after overflow" >>"$out/overflow.log"
    curl -fsS -o /dev/null -w "healthz %{http_code}\n" "$target/healthz" >>"$out/overflow.log" || echo "healthz failed" >>"$out/overflow.log"
    ;;
  fanout5k) run_tool --scenario fanout --connections 5000 --duration 10 >"$out/tool.log" 2>&1 || rc=$? ;;
  fanout19k) run_tool --scenario fanout --connections 19000 --workers 2 --duration 5 --interval 8 >"$out/tool.log" 2>&1 || rc=$? ;;
  flood) run_tool --scenario flood --rate 5000 --duration 10 >"$out/tool.log" 2>&1 || rc=$? ;;
  # Issue 14: 5,000 POST/s for 10 s on one event, then spread over 100 events; statements/s from
  # pg_stat_statements, exact final numbers on every subscriber.
  notify1) run_tool --scenario notify --rate 5000 --events 1 --duration 10 --no-probe >"$out/tool.log" 2>&1 || rc=$? ;;
  notify100) run_tool --scenario notify --rate 5000 --events 100 --duration 10 --no-probe >"$out/tool.log" 2>&1 || rc=$? ;;
  notify-two-nodes)
    # A second node of the same database, also on core 0: POSTs go to the first, every subscriber
    # (and the probe's latency) is on the second, so each figure crosses the cluster NOTIFY.
    second_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    second="http://127.0.0.1:$second_port"
    if [ "$kind" = pulse ]; then
      taskset -c 0 nice -n "$prio" "$pulse_binary" serve --urls "$second" --database-url "$db_url" >"$out/server-b.log" 2>&1 &
    else
      echo "notify-two-nodes: pulse only" >&2; exit 2
    fi
    second_pid=$!
    trap 'kill -TERM $second_pid 2>/dev/null || true; cleanup' EXIT
    for _ in $(seq 1 200); do curl -fsS "$second/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
    run_tool --scenario notify --rate 1000 --events 100 --duration 10 --subscribe-target "$second" >"$out/tool.log" 2>&1 || rc=$?
    ;;
  # A battle of ROWS links (default 1,000,000): the cold GET, then 30 s of writes with 100 subscribers;
  # database time per tick from pg_stat_statements (docs/benchmarks.md, Big battles).
  big-event) run_tool --scenario big-event --rows "${ROWS:-1000000}" --connections 100 --write-seconds 30 >"$out/tool.log" 2>&1 || rc=$? ;;
  join-storm) run_tool --scenario join-storm --connections 19000 --workers 2 --duration 10 >"$out/tool.log" 2>&1 || rc=$? ;;
  rest) run_tool --scenario rest --connections 64 --duration 10 >"$out/tool.log" 2>&1 || rc=$? ;;
  wrk)
    # The event must exist and be cached: create one through the tool's database, GET it once.
    event=$(psql "$db_url" -qAtc "insert into events (name, start_at, end_at) values ('wrk', now() - interval '1 hour', now() + interval '1 hour') returning id")
    psql "$db_url" -qAtc "insert into keywords (event_id, query, name) values ('$event', 'Blue', '#blue'), ('$event', 'Red', '#red')" >/dev/null
    curl -fsS -o /dev/null -H "Authorization: Bearer $key" "$target/v1/events/$event"
    run_wrk "$target/v1/events/$event"
    ;;
  wrk-post)
    # POST /v1/events (204) for one existing event, 64 keep-alive connections for 10 s.
    event=$(psql "$db_url" -qAtc "insert into events (name, start_at, end_at) values ('wrk-post', now() - interval '1 hour', now() + interval '1 hour') returning id")
    body="{\"topic\":\"event:$event\",\"event\":\"wrk\",\"payload\":{\"event_id\":\"$event\"}}"
    printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\n' "'$body'" >"$out/post.lua"
    curl -fsS -o /dev/null -H "Authorization: Bearer $key" -H "Content-Type: application/json" -d "$body" "$target/v1/events"
    run_wrk -s "$out/post.lua" "$target/v1/events"
    ;;
  *) echo "unknown case $case_name" >&2; exit 2 ;;
esac
kill -0 "$server_pid" 2>/dev/null || { echo "SERVER DIED" | tee -a "$out/tool.log"; rc=3; }
echo "rc=$rc" >>"$out/tool.log"
tail -n 45 "$out/tool.log"
exit "$rc"
