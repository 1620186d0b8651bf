#!/usr/bin/env bash
# HTTP load on loopback, hook against a parse-only baseline in the same process and the same run: the ratio is the
# figure to read, absolute numbers drift on shared machines. Also peak RSS, and RSS over a sustained run (leaks).
# Audit on (SQLite, the default). Needs wrk (apt-get install wrk). Bounded: DURATION per run, LEAK_SECONDS for the soak.
# Any non-200 answer or socket error fails the script (exit 1). HOOK_SERVICE points the hook runs elsewhere: with
# HOOK_SERVICE=no-such-service (a 404) the check must fire, which is how it is proved to work.
# Usage: bench/http-load.sh [duration=10s] [leak-seconds=60]   (leak-seconds 0 skips the soak)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10s}
LEAK_SECONDS=${2:-60}
PORT=${PORT:-5193}
HOOK_SERVICE=${HOOK_SERVICE:-secondary-mr-patient-view}
failed=0
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
dotnet build -c Release src/CdsMitral.Service -v q -nologo >/dev/null
data=$(mktemp -d)
dotnet run -c Release --project bench/CdsMitral.Bench -- requests "$data" >/dev/null
CdsMitral__Audit__ConnectionString="$data/audit.db" CdsMitral__Audit__SpoolPath="$data/spool" \
CdsMitral__Bench__BaselineEndpoint=true CdsMitral__Callers__PermitLimit=100000000 Logging__LogLevel__Default=Error \
  dotnet src/CdsMitral.Service/bin/Release/net10.0/CdsMitral.Service.dll --environment Development --urls "http://127.0.0.1:$PORT" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health/live" >/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$PORT/cds-services"
load() { # connections path body duration -> "rps p50 p99"
  BODY_FILE=$3 wrk -t1 -c"$1" -d"$4" -s bench/post-hook.lua "$base/$2" | awk '/RESULT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] } print r["rps"], r["p50_ms"], r["p99_ms"], r["non200"] + r["errors"] }'
}
rss() { awk -v k="$1" '$1 == k":" { printf "%.0f", $2 / 1024 }' "/proc/$pid/status"; }

load 8 bench-baseline "$data/realistic-coapt.json" 3s >/dev/null            # warm-up: JIT, pools
load 8 "$HOOK_SERVICE" "$data/realistic-coapt.json" 3s >/dev/null
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); Release; audit on (SQLite); wrk 1 thread, $DURATION per run"
echo "command: bench/http-load.sh $DURATION $LEAK_SECONDS   (request: $(wc -c < "$data/realistic-coapt.json") bytes, 52 Observations, 12 medications; COAPT-like)"
printf '%-5s %-9s %12s %8s %8s   %-9s %12s %8s %8s   %s\n' conns endpoint req/s p50_ms p99_ms endpoint req/s p50_ms p99_ms hook/baseline
for c in 1 8 32; do
  read -r brps bp50 bp99 bbad < <(load "$c" bench-baseline "$data/realistic-coapt.json" "$DURATION")
  read -r hrps hp50 hp99 hbad < <(load "$c" "$HOOK_SERVICE" "$data/realistic-coapt.json" "$DURATION")
  [ "$bbad$hbad" = "00" ] || { echo "FAILED: non-200 answers or socket errors (baseline $bbad, hook $hbad) at $c connections" >&2; failed=1; }
  printf '%-5s %-9s %12s %8s %8s   %-9s %12s %8s %8s   %.2f\n' "$c" baseline "$brps" "$bp50" "$bp99" hook "$hrps" "$hp50" "$hp99" "$(echo "$hrps / $brps" | bc -l)"
done
echo "peak RSS after the runs: $(rss VmHWM) MB (now $(rss VmRSS) MB)"

if [ "$LEAK_SECONDS" -eq 0 ]; then exit "$failed"; fi
echo "soak: hooks at 8 connections for ${LEAK_SECONDS}s, RSS sampled every 5 s (MB):"
BODY_FILE="$data/realistic-coapt.json" wrk -t1 -c8 -d"${LEAK_SECONDS}s" -s bench/post-hook.lua "$base/$HOOK_SERVICE" > "$data/soak.txt" &
soak=$!
samples=()
for _ in $(seq $((LEAK_SECONDS / 5))); do sleep 5; samples+=("$(rss VmRSS)"); done
wait $soak
echo "  ${samples[*]}"
echo "  $(grep RESULT "$data/soak.txt")"
echo "  peak RSS $(rss VmHWM) MB; growth from the 15 s sample to the last: $(( ${samples[-1]} - ${samples[2]:-${samples[0]}} )) MB"
grep -q 'errors=0 non200=0' "$data/soak.txt" || { echo "FAILED: non-200 answers or socket errors in the soak" >&2; failed=1; }
exit "$failed"
