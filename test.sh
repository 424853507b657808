#!/usr/bin/env bash
# Runs every test of Pulse on this machine, from scratch:
#   1. installs what is missing (clang-14, zlib1g-dev, PostgreSQL, Chromium) when run as root;
#   2. starts a throwaway PostgreSQL (unless PULSE_TEST_DATABASE_URL names one), removed afterwards;
#   3. publishes the Native AOT binary (./publish.sh: fails on any trim/AOT warning);
#   4. runs the xunit suite (unit, PostgreSQL integration, functional over real sockets, and the
#      end-to-end tests that drive dist/pulse);
#   5. runs the JavaScript suites (official phoenix client, headless Chromium) against dist/pulse;
#   6. runs a smoke pass of every load scenario against dist/pulse.
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)
work=$(mktemp -d /tmp/pulse-test.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  [ -z "${PULSE_TEST_DATABASE_URL_GIVEN:-}" ] && scripts/postgres.sh stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n=== %s\n' "$*"; }

step "dependencies"
scripts/install-deps.sh

step "PostgreSQL"
if [ -n "${PULSE_TEST_DATABASE_URL:-}" ]; then
  PULSE_TEST_DATABASE_URL_GIVEN=1
  echo "using PULSE_TEST_DATABASE_URL"
else
  PULSE_TEST_DATABASE_URL=$(scripts/postgres.sh start "$work/pg")
  export PULSE_TEST_DATABASE_URL
  echo "throwaway cluster: $PULSE_TEST_DATABASE_URL"
fi

step "publish (Native AOT)"
./publish.sh
export PULSE_BINARY="$root/dist/pulse"

step "xunit"
dotnet test Pulse.sln -c Release --logger "console;verbosity=minimal" 2>&1 | tee "$work/xunit.log"
xunit_line=$(grep -E "^(Passed|Failed)!" "$work/xunit.log" | tail -n1)

step "JavaScript: official phoenix client and headless Chromium, against dist/pulse"
scripts/js-tests.sh "$work/js"

step "load scenarios, smoke pass against dist/pulse (correctness only, never speed)"
scripts/load-smoke.sh "$work/load"

echo
echo "xunit: $xunit_line"
echo "all test suites passed"
