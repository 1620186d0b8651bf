#!/usr/bin/env bash
# Bytes allocated by the service per hook over HTTP: the process's GC.GetTotalAllocatedBytes (read through a bench-only
# endpoint, CdsMitral:Bench:BaselineEndpoint) before and after a run of hooks at one connection, divided by the hooks.
# Everything the process allocates meanwhile counts: Kestrel, the pipeline, the audit record and its commit, timers.
# Usage: bench/allocations.sh [duration=10s] [store=Sqlite]   (request: the realistic 41 KB COAPT-like one)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10s}
STORE=${2:-Sqlite}
PORT=${PORT:-5196}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
# SERVICE_DLL runs another build of the service (to compare before and after a change) instead of building this one.
[ -n "${SERVICE_DLL:-}" ] || dotnet build -c Release src/CdsMitral.Service -v q -nologo >/dev/null
SERVICE_DLL=${SERVICE_DLL:-src/CdsMitral.Service/bin/Release/net10.0/CdsMitral.Service.dll}
data=$(mktemp -d)
dotnet run -c Release --project bench/CdsMitral.Bench -- requests "$data" >/dev/null
CdsMitral__Audit__Store=$STORE CdsMitral__Audit__ConnectionString="$data/audit.db" CdsMitral__Audit__SpoolPath="$data/spool" \
CdsMitral__Bench__BaselineEndpoint=true CdsMitral__Callers__PermitLimit=100000000 Logging__LogLevel__Default=Error \
  dotnet "$SERVICE_DLL" --environment Development --urls "http://127.0.0.1:$PORT" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 150); do curl -sf "http://127.0.0.1:$PORT/health/live" >/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$PORT/cds-services"
allocated() { curl -sf "$base/bench-allocated" | sed 's/[^0-9]//g'; }
BODY_FILE="$data/realistic-coapt.json" wrk -t1 -c1 -d3s -s bench/post-hook.lua "$base/secondary-mr-patient-view" >/dev/null   # warm-up
echo "command: bench/allocations.sh $DURATION $STORE; request $(wc -c <"$data/realistic-coapt.json") bytes; load $(cut -d' ' -f1-3 /proc/loadavg)"
for endpoint in bench-baseline secondary-mr-patient-view bench-baseline secondary-mr-patient-view; do
  before=$(allocated)
  out=$(BODY_FILE="$data/realistic-coapt.json" wrk -t1 -c1 -d"$DURATION" -s bench/post-hook.lua "$base/$endpoint" | grep RESULT)
  after=$(allocated)
  case "$out" in *"errors=0 non200=0"*) ;; *) echo "FAILED: $out" >&2; exit 1 ;; esac
  requests=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$out")
  echo "ALLOCATED endpoint=$endpoint requests=$requests per_request_kb=$(echo "scale=1; ($after - $before) / $requests / 1024" | bc)"
done
