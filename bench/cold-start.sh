#!/usr/bin/env bash
# Cold start: a fresh service process (fresh audit database), /health/ready polled every 10 ms until it says ready,
# then the first hook and a second one timed by curl (time_total), RUNS times. Audit on (SQLite, synchronous=FULL).
# Usage: bench/cold-start.sh [runs=5]   SERVICE_DLL=... runs another build (e.g. a ReadyToRun publish); AUDIT=None turns the audit off
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
PORT=${PORT:-5197}
[ -n "${SERVICE_DLL:-}" ] || dotnet build -c Release src/CdsMitral.Service -v q -nologo >/dev/null
SERVICE_DLL=${SERVICE_DLL:-src/CdsMitral.Service/bin/Release/net10.0/CdsMitral.Service.dll}
body=samples/requests/coapt-profile.patient-view.prefetch.json
url="http://127.0.0.1:$PORT/cds-services/secondary-mr-patient-view"
echo "command: bench/cold-start.sh $RUNS ($SERVICE_DLL); request $(wc -c <"$body") bytes; load $(cut -d' ' -f1-3 /proc/loadavg)"
firsts=()
for run in $(seq "$RUNS"); do
  data=$(mktemp -d)
  start=$(date +%s%N)
  CdsMitral__Audit__Store="${AUDIT:-Sqlite}" CdsMitral__Audit__ConnectionString="$data/audit.db" CdsMitral__Audit__SpoolPath="$data/spool" Logging__LogLevel__Default=Error \
    dotnet "$SERVICE_DLL" --environment Development --urls "http://127.0.0.1:$PORT" >/dev/null 2>&1 &
  pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$PORT/health/ready"; do sleep 0.01; done
  ready=$(( ($(date +%s%N) - start) / 1000000 ))
  first=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H 'Content-Type: application/json' --data-binary @"$body" "$url")
  second=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H 'Content-Type: application/json' --data-binary @"$body" "$url")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$data"
  [ "${first%% *}" = 200 ] && [ "${second%% *}" = 200 ] || { echo "FAILED: answers $first / $second" >&2; exit 1; }
  first_ms=$(echo "${first#* } * 1000" | bc -l); second_ms=$(echo "${second#* } * 1000" | bc -l)
  printf 'COLD run=%s ready_ms=%s first_hook_ms=%.1f second_hook_ms=%.1f load=%s\n' "$run" "$ready" "$first_ms" "$second_ms" "$(cut -d' ' -f1 /proc/loadavg)"
  firsts+=("$first_ms")
done
printf 'COLD median_first_hook_ms=%.1f\n' "$(printf '%s\n' "${firsts[@]}" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
