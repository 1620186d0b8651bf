#!/usr/bin/env bash
# The project's service against a minimal Node/Express patient-greeting of our own (bench/greeting-service.mjs, what
# the CDS Hooks reference services' greeting does: parse, read the name, answer one card, persist nothing), on one
# machine, in alternating runs (the order flips every pair, so drift falls on both), at 1, 8 and 32 connections.
# Ours runs as shipped: the Dockerfile's publish (Release, -r linux-x64: ReadyToRun), durable audit on (SQLite,
# synchronous=FULL, answered only after the commit). Throughput is compared in the steady state: ours is warmed in
# rounds until its JIT stops compiling new methods (tiered compilation done; a 3 s warm-up measured the JIT still
# at work), Node for as long; the first call after start is bench/cold-start.sh's business.
# Both get the same 13.6 KB request (samples/requests/coapt-profile.patient-view.prefetch.json). Nothing is fetched
# from outside except express from the npm registry, pinned by bench/package-lock.json, when bench/node_modules is missing.
# Prints, per concurrency, each pair's ratio (ours / greeting req/s), their median and spread, and the load average.
# Usage: bench/compare-reference.sh [duration=5s] [pairs=3] [connections="1 8 32"]
#   AUDIT=None compares with the audit off (an option for measuring only).
#   SERVICE_DIR runs another build of the service (before and after a change) instead of publishing this one;
#   BUILD=jit measures `dotnet build` output (JIT only) instead of the ReadyToRun publish.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-5s}
PAIRS=${2:-3}
CONNECTIONS=${3:-1 8 32}
AUDIT=${AUDIT:-Sqlite}
OURS_PORT=${OURS_PORT:-5195}
NODE_PORT=${NODE_PORT:-5194}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
[ -d bench/node_modules/express ] || npm ci --prefix bench --no-audit --no-fund >/dev/null
data=$(mktemp -d)
if [ -z "${SERVICE_DIR:-}" ] && [ "${BUILD:-}" = jit ]; then
  dotnet build -c Release src/CdsMitral.Service -v q -nologo >/dev/null
  SERVICE_DIR=src/CdsMitral.Service/bin/Release/net10.0
elif [ -z "${SERVICE_DIR:-}" ]; then
  dotnet publish src/CdsMitral.Service -c Release -r linux-x64 --self-contained false -o "$data/publish" -v q -nologo >/dev/null
  SERVICE_DIR=$data/publish
fi
body=samples/requests/coapt-profile.patient-view.prefetch.json
CdsMitral__Bench__BaselineEndpoint=true CdsMitral__Audit__Store=$AUDIT CdsMitral__Audit__ConnectionString="$data/audit.db" CdsMitral__Audit__SpoolPath="$data/spool" \
CdsMitral__Callers__PermitLimit=100000000 Logging__LogLevel__Default=Error \
  dotnet "$SERVICE_DIR/CdsMitral.Service.dll" --environment Development --urls "http://127.0.0.1:$OURS_PORT" >/dev/null 2>&1 &
ours=$!
node bench/greeting-service.mjs "$NODE_PORT" >/dev/null 2>&1 &
greeting=$!
trap 'kill $ours $greeting 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 150); do curl -sf "http://127.0.0.1:$OURS_PORT/health/ready" >/dev/null && curl -sf "http://127.0.0.1:$NODE_PORT/cds-services" >/dev/null && break; sleep 0.1; done
ours_url="http://127.0.0.1:$OURS_PORT/cds-services/secondary-mr-patient-view"
node_url="http://127.0.0.1:$NODE_PORT/cds-services/patient-greeting"
load() { # connections url duration -> "rps p50 p99"; a non-200 answer or socket error stops the script
  local out
  out=$(BODY_FILE=$body wrk -t1 -c"$1" -d"$3" -s bench/post-hook.lua "$2" | grep RESULT)
  case "$out" in *"errors=0 non200=0"*) ;; *) echo "FAILED against $2: $out" >&2; exit 1 ;; esac
  awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] } print r["rps"], r["p50_ms"], r["p99_ms"] }' <<<"$out"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Warm-up: pools, the audit file, and the JIT on both sides. Ours in 2 s rounds at 8 connections until a round adds
# fewer than 20 compiled methods (at most 20 rounds; a build without the count, WARM_ROUNDS=10 rounds); Node as many rounds.
jitted() { curl -sf "http://127.0.0.1:$OURS_PORT/cds-services/bench-jit" | sed 's/[^0-9]//g' || echo none; }
rounds=0; methods=$(jitted); first_methods=$methods
while (( rounds < ${WARM_ROUNDS:-20} )); do
  load 8 "$ours_url" 2s >/dev/null
  rounds=$((rounds + 1)); now=$(jitted)
  [ "$now" = none ] && { WARM_ROUNDS=${WARM_ROUNDS:-10}; continue; }
  (( now - methods < 20 )) && { methods=$now; break; }
  methods=$now
done
for _ in $(seq "$rounds"); do load 8 "$node_url" 2s >/dev/null; done
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); .NET Release, audit $AUDIT; node $(node --version), express $(node -p "require('./bench/node_modules/express/package.json').version")"
echo "command: bench/compare-reference.sh $DURATION $PAIRS \"$CONNECTIONS\"${AUDIT:+ (AUDIT=$AUDIT)}; request $(wc -c <"$body") bytes; wrk 1 thread"
echo "build: $SERVICE_DIR; warm-up: $rounds rounds of 2 s at 8 connections each, ours compiled $first_methods -> $methods methods"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-5s %-6s %10s %7s %7s   %10s %7s %7s   %s\n' conns pair ours_rps p50 p99 node_rps p50 p99 ours/node
for c in $CONNECTIONS; do
  ratios=()
  for p in $(seq "$PAIRS"); do
    if (( p % 2 )); then
      read -r orps op50 op99 < <(load "$c" "$ours_url" "$DURATION")
      read -r nrps np50 np99 < <(load "$c" "$node_url" "$DURATION")
    else
      read -r nrps np50 np99 < <(load "$c" "$node_url" "$DURATION")
      read -r orps op50 op99 < <(load "$c" "$ours_url" "$DURATION")
    fi
    r=$(echo "scale=3; $orps / $nrps" | bc -l)
    ratios+=("$r")
    printf '%-5s %-6s %10s %7s %7s   %10s %7s %7s   %.2f\n' "$c" "$p" "$orps" "$op50" "$op99" "$nrps" "$np50" "$np99" "$r"
  done
  printf 'RATIO c=%s median=%.2f min=%.2f max=%.2f load=%s\n' "$c" "$(printf '%s\n' "${ratios[@]}" | median)" \
    "$(printf '%s\n' "${ratios[@]}" | sort -g | head -1)" "$(printf '%s\n' "${ratios[@]}" | sort -g | tail -1)" "$(cut -d' ' -f1 /proc/loadavg)"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
