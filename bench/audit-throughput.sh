#!/usr/bin/env bash
# Hook throughput with the audit trail off, on SQLite and on PostgreSQL, in one run on one machine: the same Release
# build, the same request (sample coapt-profile, full prefetch), the same load (wrk, 1 thread, CONNECTIONS connections,
# DURATION per store after a warm-up). Needs wrk (apt-get install wrk); PostgreSQL comes from .ci/postgres.sh.
# Usage: bench/audit-throughput.sh [connections] [duration]   (WARM=15s: the warm-up per store)
set -euo pipefail
cd "$(dirname "$0")/.."
CONNECTIONS=${1:-16}
DURATION=${2:-10s}
PORT=${PORT:-5191}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
# SERVICE_DIR runs another build of the service (to compare before and after a change) instead of building this one.
[ -n "${SERVICE_DIR:-}" ] || dotnet build -c Release src/CdsMitral.Service -v q -nologo >/dev/null
out=${SERVICE_DIR:-src/CdsMitral.Service/bin/Release/net10.0}
body=samples/requests/coapt-profile.patient-view.prefetch.json
url="http://127.0.0.1:$PORT/cds-services/secondary-mr-patient-view"
data=$(mktemp -d)
pg=""
if pg=$(bash .ci/postgres.sh 2>/dev/null); then :; else pg=""; fi

run() { # store connection-string -> one RESULT line
  local store=$1 conn=$2
  CdsMitral__Audit__Store=$store CdsMitral__Audit__ConnectionString="$conn" CdsMitral__Audit__SpoolPath="$data/spool-$store" \
  CdsMitral__Callers__PermitLimit=100000000 Logging__LogLevel__Default=Error \
    dotnet "$out/CdsMitral.Service.dll" --environment Development --urls "http://127.0.0.1:$PORT" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/cds-services" >/dev/null && break; sleep 0.1; done
  # Warm-up (pools, the JIT): tiered compilation goes on for 10-30 s of load (bench/compare-reference.sh counts it), and a
  # store measured while it runs carries its CPU.
  BODY_FILE=$body wrk -t1 -c"$CONNECTIONS" -d"${WARM:-15s}" -s bench/post-hook.lua "$url" >/dev/null
  printf '%-11s ' "$store"; BODY_FILE=$body wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s bench/post-hook.lua "$url" | grep RESULT
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); Release build; wrk 1 thread, $CONNECTIONS connections, $DURATION each"
echo "command: bench/audit-throughput.sh $CONNECTIONS $DURATION ($out); load $(cut -d' ' -f1-3 /proc/loadavg)"
run None ""
run Sqlite "$data/audit.db"
if [ -n "$pg" ]; then
  schema="bench_$(date +%s)"
  PGPASSWORD=cdsmitral psql -qh 127.0.0.1 -U cdsmitral -d cdsmitral_test -c "CREATE SCHEMA $schema" >/dev/null
  run PostgreSql "$pg;Search Path=$schema"
  PGPASSWORD=cdsmitral PGOPTIONS="--client-min-messages=warning" psql -qh 127.0.0.1 -U cdsmitral -d cdsmitral_test -c "DROP SCHEMA $schema CASCADE" >/dev/null
else
  echo "PostgreSql  (no server: run .ci/postgres.sh first)"
fi
rm -rf "$data"
