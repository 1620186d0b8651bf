#!/usr/bin/env bash
# cdsmitral replay at population sizes (issue 25): writes a synthetic Bulk Data export of each size with
# `cdsmitral population` and replays it (Release build), printing the rate and the peak working set, so that memory can
# be seen to stay flat as the population grows. Target: at least 2,000 patients/s on this machine.
# Usage: bench/replay.sh [sizes]   e.g. bench/replay.sh "20000 100000"
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${1:-"20000 100000"}
dotnet build -c Release src/CdsMitral.Cli -v q -nologo >/dev/null
cli=src/CdsMitral.Cli/bin/Release/net10.0/CdsMitral.Cli.dll
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); Release build; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: bench/replay.sh \"$SIZES\" at $(git rev-parse --short HEAD)"
for size in $SIZES; do
  NO_COLOR=1 dotnet "$cli" population "$data/p$size" --patients "$size" --seed 1 | sed 's/^/  /'
  echo "  export: $(du -sm "$data/p$size" | cut -f1) MiB"
  # The process's own peak (VmHWM) as the kernel counts it, beside what the tool reports.
  NO_COLOR=1 COLUMNS=140 /usr/bin/time -f "  max RSS %M KiB, %e s wall, %U s user, %S s system" \
    dotnet "$cli" replay "$data/p$size" --out "$data/r$size" 2>&1 | grep -E "patients in|max RSS|any card|smr-coapt" | sed 's/^/  /'
  rm -rf "$data/p$size" "$data/r$size"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
