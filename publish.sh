#!/usr/bin/env bash
# Builds the single Native AOT binary dist/pulse (linux-x64) and fails on any trim/AOT warning.
# Needs clang-14 and zlib1g-dev (Debian: apt-get install clang-14 zlib1g-dev) and Node/npm for the dashboard.
set -euo pipefail
cd "$(dirname "$0")"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rm -rf dist
# -warnaserror on the whole publish: trim (IL2xxx) and AOT (IL3xxx) analysis warnings fail the build.
if ! dotnet publish Pulse/Pulse.csproj -c Release -r linux-x64 -o dist -nologo -p:TreatWarningsAsErrors=true >"$log" 2>&1; then
  cat "$log"; echo "publish.sh: dotnet publish failed" >&2; exit 1
fi
# CommandLineParser's own reflection is summarized as one IL2104 for CommandLine.dll (see Pulse.csproj);
# any other trim/AOT warning, ours above all, fails.
if grep -E "warning (IL[0-9]{4}|AOT)" "$log" | grep -vE "CommandLine\.dll : warning IL2104"; then
  echo "publish.sh: trim/AOT warnings above; the binary is not published" >&2; exit 1
fi
rm -f dist/*.dbg dist/*.pdb
size=$(stat -c %s dist/pulse)
echo "dist/pulse: $size bytes ($(awk "BEGIN{printf \"%.1f\", $size/1048576}") MiB)"
