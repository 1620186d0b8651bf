#!/usr/bin/env bash
# Latency of one hook call, with full prefetch and without prefetch (the service fetches all seven keys from a
# FHIR server that takes LATENCY_MS per request). Prints the figures and the command that made them.
# Usage: bench/hook-latency.sh [requests-with-prefetch] [requests-without-prefetch]
set -euo pipefail
cd "$(dirname "$0")/.."
N_PREFETCH=${1:-300}
N_FETCH=${2:-60}
LATENCY_MS=${LATENCY_MS:-50}
SERVICE_PORT=${SERVICE_PORT:-5181}
FHIR_PORT=${FHIR_PORT:-8181}
SAMPLE=coapt-profile

dotnet build -c Release src/CdsMitral.Service -v q -nologo >/dev/null
LATENCY_MS=$LATENCY_MS PORT=$FHIR_PORT node bench/fake-fhir.mjs "samples/patients/$SAMPLE.json" >/dev/null &
fhir=$!
Logging__LogLevel__Default=Warning dotnet src/CdsMitral.Service/bin/Release/net10.0/CdsMitral.Service.dll \
  --environment Development --urls "http://127.0.0.1:$SERVICE_PORT" >/dev/null &
service=$!
trap 'kill $fhir $service 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$SERVICE_PORT/cds-services" >/dev/null && break; sleep 0.2; done

url="http://127.0.0.1:$SERVICE_PORT/cds-services/secondary-mr-patient-view"
with_prefetch="samples/requests/$SAMPLE.patient-view.prefetch.json"
without=$(mktemp)
sed "s#http://localhost:8080/fhir#http://127.0.0.1:$FHIR_PORT/fhir#" "samples/requests/$SAMPLE.patient-view.json" > "$without"

measure() { # file count -> one time_total (s) per line; a call that is not 200 stops the run
  for _ in $(seq "$2"); do
    read -r code seconds < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H 'Content-Type: application/json' --data @"$1" "$url")
    if [ "$code" != 200 ]; then echo "HTTP $code from $url with $1: not measuring failures" >&2; exit 1; fi
    echo "$seconds"
  done
}
stats() { sort -n | awk '{ a[NR] = $1 * 1000; s += $1 * 1000 } END {
  printf "n=%d  mean=%.1f ms  p50=%.1f ms  p95=%.1f ms  max=%.1f ms\n", NR, s / NR, a[int(NR * 0.5) + 1], a[int(NR * 0.95)], a[NR] }'; }

measure "$with_prefetch" 30 >/dev/null   # warm-up: JIT, connection pools
measure "$without" 10 >/dev/null
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); $(dotnet --version) SDK; Release build"
echo "command: LATENCY_MS=$LATENCY_MS bench/hook-latency.sh $N_PREFETCH $N_FETCH   (sample $SAMPLE, sequential curl requests)"
printf 'patient-view, full prefetch:                       '; measure "$with_prefetch" "$N_PREFETCH" | stats
printf 'patient-view, no prefetch (7 FHIR GETs @ %3s ms):  ' "$LATENCY_MS"; measure "$without" "$N_FETCH" | stats
# The slowest single query the hook makes (the echo search), straight to the FHIR server.
echo_query=$(curl -s "http://127.0.0.1:$SERVICE_PORT/cds-services" | python3 -c 'import json,sys; print(json.load(sys.stdin)["services"][0]["prefetch"]["echoObservations"].replace("{{context.patientId}}","'"$SAMPLE"'").replace("|","%7C"))')
printf 'one FHIR query alone (the echo search):            '
for _ in $(seq "$N_FETCH"); do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$FHIR_PORT/fhir/$echo_query"; done | stats
rm -f "$without"

# The deadline: a FHIR server slower than the hook's deadline must not hold the hook past it (answer: 412).
kill $fhir $service; wait $fhir $service 2>/dev/null || true
LATENCY_MS=3000 PORT=$FHIR_PORT node bench/fake-fhir.mjs "samples/patients/$SAMPLE.json" >/dev/null &
fhir=$!
CdsMitral__HookDeadline=00:00:00.500 Logging__LogLevel__Default=Warning dotnet src/CdsMitral.Service/bin/Release/net10.0/CdsMitral.Service.dll \
  --environment Development --urls "http://127.0.0.1:$SERVICE_PORT" >/dev/null &
service=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$SERVICE_PORT/health/live" >/dev/null && break; sleep 0.2; done
without=$(mktemp)
sed "s#http://localhost:8080/fhir#http://127.0.0.1:$FHIR_PORT/fhir#" "samples/requests/$SAMPLE.patient-view.json" > "$without"
curl -s -o /dev/null -H 'Content-Type: application/json' --data @"$without" "$url"   # warm-up
printf 'deadline 500 ms, FHIR server at 3000 ms per query:  '
for _ in $(seq 10); do curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H 'Content-Type: application/json' --data @"$without" "$url"; done \
  | awk '{ if ($1 != 412) bad++; print $2 } END { if (bad) print bad " answers were not 412" > "/dev/stderr" }' | stats
rm -f "$without"
