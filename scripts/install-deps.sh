#!/usr/bin/env bash
# Installs, when missing, what building and testing Pulse needs from Debian: clang-14 and zlib1g-dev
# (Native AOT), PostgreSQL (tests, demo), Chromium (browser tests), nginx-light (the tests behind
# nginx, Pulse.Tests/Nginx and scripts/js-tests.sh), promtool (package prometheus: the /metrics check). Node.js/npm and the .NET SDK
# are expected on the machine. Does nothing when everything is there.
set -euo pipefail
need=()
command -v clang-14 >/dev/null || need+=(clang-14)
[ -e /usr/include/zlib.h ] || need+=(zlib1g-dev)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql postgresql-contrib)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v openssl >/dev/null || need+=(openssl)   # the TLS PostgreSQL of the tests (postgres.sh start-tls)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v promtool >/dev/null || need+=(prometheus)   # promtool check metrics on /metrics (EndToEnd/MetricsPromtoolTests)
if [ ${#need[@]} -eq 0 ]; then echo "dependencies present"; exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "missing: ${need[*]} — install them with: sudo apt-get install -y ${need[*]}" >&2; exit 1
fi
echo "installing: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The Debian package starts a cluster of its own; Pulse's tests and demo start their own, so stop it.
if command -v pg_ctlcluster >/dev/null; then
  for c in $(ls /etc/postgresql 2>/dev/null); do pg_ctlcluster "$c" main stop 2>/dev/null || true; done
fi
# Likewise the Debian nginx package may start a server on port 80; the tests start their own nginx.
if [[ " ${need[*]} " == *" nginx-light "* ]]; then
  nginx -s quit 2>/dev/null || true
fi
# The prometheus package is installed for promtool only: if its package scripts started the server, stop it.
if [[ " ${need[*]} " == *" prometheus "* ]]; then
  systemctl stop prometheus 2>/dev/null || service prometheus stop 2>/dev/null || true
  pkill -x prometheus 2>/dev/null || true
fi
