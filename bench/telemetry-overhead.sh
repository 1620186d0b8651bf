#!/usr/bin/env bash
# What OpenTelemetry costs on the hook path (issue 25): the same service (Release, SQLite audit on, as deployed),
# started alternately without telemetry and with it fully on — traces and metrics exported over OTLP/HTTP to a local
# stand-in collector (bench/otlp-sink.py, which decodes everything it receives) every second, and a Prometheus scrape
# endpoint scraped every 5 s — and loaded with wrk (the coapt-profile sample) at 1 and 8 connections.
# Prints per round and connection count: requests/s, p50/p99 and the service's CPU per request (from /proc), then the
# median ratio on/off. Usage: bench/telemetry-overhead.sh [rounds] [seconds]   e.g. bench/telemetry-overhead.sh 5 10
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
SECS=${2:-10}
PORT=${PORT:-5195}
SINK=${SINK:-4398}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
dotnet build -c Release src/CdsMitral.Service -v q -nologo >/dev/null
service=src/CdsMitral.Service/bin/Release/net10.0/CdsMitral.Service.dll
body=samples/requests/coapt-profile.patient-view.prefetch.json
data=$(mktemp -d)
tick=$(getconf CLK_TCK)
python3 bench/otlp-sink.py "$SINK" "$data/received.ndjson" & sink=$!
trap 'kill $sink 2>/dev/null; rm -rf "$data"' EXIT
export Logging__LogLevel__Default=Warning CdsMitral__Callers__PermitLimit=100000000
base="http://127.0.0.1:$PORT"

cpu() { awk '{ print $14 + $15 }' /proc/"$1"/stat; }
run() { # mode connections -> "rps p50 p99 cpu_us_per_request"
  local mode=$1 c=$2 pid before after out
  rm -f "$data"/audit.db* "$data"/*.ndjson.spool
  if [ "$mode" = on ]; then
    CdsMitral__Telemetry__OtlpEndpoint=http://127.0.0.1:$SINK CdsMitral__Telemetry__OtlpProtocol=HttpProtobuf \
    CdsMitral__Telemetry__PrometheusEndpoint=/metrics OTEL_BSP_SCHEDULE_DELAY=1000 OTEL_METRIC_EXPORT_INTERVAL=1000 \
    CdsMitral__Audit__ConnectionString=$data/audit.db dotnet "$service" --environment Development --urls "$base" >"$data/service.log" 2>&1 &
  else
    CdsMitral__Audit__ConnectionString=$data/audit.db dotnet "$service" --environment Development --urls "$base" >"$data/service.log" 2>&1 &
  fi
  pid=$!
  for _ in $(seq 600); do curl -sf "$base/health/ready" >/dev/null 2>&1 && break; sleep 0.05; done
  if [ "$mode" = on ]; then ( while kill -0 "$pid" 2>/dev/null; do curl -s -o /dev/null "$base/metrics"; sleep 5; done ) & fi
  BODY_FILE=$body wrk -t1 -c"$c" -d3s -s bench/post-hook.lua "$base/cds-services/secondary-mr-patient-view" >/dev/null
  before=$(cpu "$pid")
  out=$(BODY_FILE=$body wrk -t1 -c"$c" -d"${SECS}s" -s bench/post-hook.lua "$base/cds-services/secondary-mr-patient-view" | grep RESULT)
  after=$(cpu "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$out" | awk -v d=$((after - before)) -v t="$tick" '{
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "%s %s %s %.0f\n", v["rps"], v["p50_ms"], v["p99_ms"], d / t * 1e6 / v["requests"] }'
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); Release build; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: bench/telemetry-overhead.sh $ROUNDS $SECS at $(git rev-parse --short HEAD)"
printf '%-6s %-4s %3s %8s %8s %8s %10s\n' round mode c rps p50_ms p99_ms cpu_us/req
for c in 1 8; do
  for r in $(seq "$ROUNDS"); do
    for mode in off on; do
      read -r rps p50 p99 cpu_us <<<"$(run "$mode" "$c")"
      printf '%-6s %-4s %3s %8s %8s %8s %10s\n' "$r" "$mode" "$c" "$rps" "$p50" "$p99" "$cpu_us" | tee -a "$data/rows"
    done
  done
done
med() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
m() { awk -v c="$1" -v k="$2" -v f="$3" '$3 == c && $2 == k { print $f }' "$data/rows" | med; } # connections mode column
echo "median on/off:"
for c in 1 8; do
  awk -v c="$c" -v p1="$(m "$c" on 5)" -v p0="$(m "$c" off 5)" -v c1="$(m "$c" on 7)" -v c0="$(m "$c" off 7)" -v r1="$(m "$c" on 4)" -v r0="$(m "$c" off 4)" \
    'BEGIN { printf "  %d connection(s): p50 %.2f / %.2f ms = %.3f;  CPU per request %.0f / %.0f us = %.3f;  requests/s %.0f / %.0f = %.3f\n", c, p1, p0, p1 / p0, c1, c0, c1 / c0, r1, r0, r1 / r0 }'
done
echo "the stand-in collector received $(grep -c '"span"' "$data/received.ndjson" || true) spans and $(grep -c '"point"' "$data/received.ndjson" || true) metric points; load $(cut -d' ' -f1-3 /proc/loadavg)"
