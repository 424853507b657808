#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and the demo.
#   scripts/postgres.sh start DIR   → initdb + start on a free port; prints the database URL
#   scripts/postgres.sh start-tls DIR → the same, but as a managed PostgreSQL service runs: TLS only
#                                       (see below); prints a verify-full URL
#   scripts/postgres.sh stop DIR    → stop it and remove DIR (either kind)
# initdb refuses to run as root, so as root the cluster belongs to the `postgres` user.
#
# start-tls: `ssl = on` with a self-signed certificate (CN=localhost, subjectAltName DNS:localhost and
# IP:127.0.0.1, so verify-full holds for either name); pg_hba.conf has only `hostssl … scram-sha-256`
# lines (plus the unix socket in DIR, trusted, for administration); `password_encryption =
# scram-sha-256`; the database `pulse` belongs to the login role TLS_USER, whose name and password need
# percent-encoding in a URL. Files in DIR: ca.pem (the server certificate, its own CA: the value for
# sslrootcert), wrong-ca.pem (another self-signed certificate, for the failure case), port.
set -euo pipefail
cmd=${1:?start|start-tls|stop}; dir=${2:?directory}
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
[ -x "$bin/initdb" ] || { echo "PostgreSQL server binaries not found: apt-get install postgresql" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
# The TLS cluster's login role: '@', ':', '/', '%', '?', '#', '&', '+' and a space are all special in a URL.
tls_user='pulse@tls'
tls_password='p@ss:w/rd %?#&+x'
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
start-tls)
  command -v openssl >/dev/null || { echo "openssl not found: apt-get install openssl" >&2; exit 1; }
  mkdir -p "$dir"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  as_pg "$bin/initdb" -D "$dir/data" -U pulse -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  # Made by the cluster's owner: PostgreSQL refuses a key file that others can read.
  for name in server wrong; do
    as_pg openssl req -x509 -nodes -newkey rsa:2048 -days 3650 -subj /CN=localhost \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
      -keyout "$dir/$name.key" -out "$dir/$name.crt" >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log" >&2; exit 1; }
  done
  as_pg chmod 600 "$dir/server.key"
  cp "$dir/server.crt" "$dir/ca.pem"; cp "$dir/wrong.crt" "$dir/wrong-ca.pem"; rm -f "$dir/wrong.key" "$dir/wrong.crt"
  chmod 644 "$dir/ca.pem" "$dir/wrong-ca.pem"
  cat > "$dir/pg_hba.conf" <<HBA
# TLS only, scram only: no 'host' line, so a connection without TLS finds no entry.
local   all all                trust
hostssl all all 127.0.0.1/32   scram-sha-256
hostssl all all ::1/128        scram-sha-256
HBA
  # In postgresql.conf, not on pg_ctl's command line: a test that stops the server starts it again
  # with a plain `pg_ctl -D DIR/data -l DIR/postgres.log start`.
  cat >> "$dir/data/postgresql.conf" <<CONF
port = $port
unix_socket_directories = '$dir'
listen_addresses = '127.0.0.1'
max_connections = 100
fsync = off
synchronous_commit = off
full_page_writes = off
ssl = on
ssl_cert_file = '$dir/server.crt'
ssl_key_file = '$dir/server.key'
hba_file = '$dir/pg_hba.conf'
password_encryption = scram-sha-256
CONF
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir/pg_hba.conf"
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 start >/dev/null
  # Administration over the unix socket (trusted); the role's password is stored as a SCRAM verifier.
  as_pg "$bin/psql" -h "$dir" -p "$port" -U pulse -d postgres -v ON_ERROR_STOP=1 -q \
    -c "CREATE ROLE \"$tls_user\" LOGIN PASSWORD '$tls_password'" \
    -c "CREATE DATABASE pulse OWNER \"$tls_user\"" >/dev/null
  echo "$port" > "$dir/port"
  enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=sys.argv[2]))' "$1" "${2:-}"; }
  echo "postgres://$(enc "$tls_user"):$(enc "$tls_password")@127.0.0.1:$port/pulse?sslmode=verify-full&sslrootcert=$(enc "$dir/ca.pem" /)"
  ;;
stop)
  [ -d "$dir/data" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*) echo "usage: $0 start|start-tls|stop DIR" >&2; exit 2 ;;
esac
