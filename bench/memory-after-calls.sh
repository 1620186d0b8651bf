#!/usr/bin/env bash
# What a fresh process holds after N hook calls, and of what it is made: resident memory split into anonymous (the GC
# heaps, native allocations), file-backed (the mapped assemblies and native libraries: clean pages, shared with every
# other process mapping the same file, dropped and re-read under memory pressure) and shared memory (the runtime's
# W^X double mapping of generated code), and the largest mappings. Sequential calls with curl, the realistic request.
# Usage: bench/memory-after-calls.sh [calls=100] BUILD[:store[:VAR=value,...]]...   (store: Sqlite (default) or None)
#   BUILD is a publish folder, as for bench/audit-cost.sh. TOP=n: how many of the largest mappings to name (6).
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS=${1:-100}
shift
(( $# > 0 )) || { echo "usage: bench/memory-after-calls.sh calls build[:store[:knobs]]..." >&2; exit 2; }
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
dotnet run -c Release --project bench/CdsMitral.Bench -- requests "$data" >/dev/null
port=5280
echo "command: bench/memory-after-calls.sh $CALLS $*; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-40s %8s %8s %8s %8s   %s\n' build rss_MiB anon file shmem "largest mappings (MiB)"
for config in "$@"; do
  IFS=: read -r dir store knobs <<<"$config"; IFS=, read -ra knobs <<<"${knobs:-}"
  port=$((port + 1)); db=$data/$port
  env "${knobs[@]}" CdsMitral__Audit__Store="${store:-Sqlite}" CdsMitral__Audit__ConnectionString="$db.db" CdsMitral__Audit__SpoolPath="$db.spool" \
    Logging__LogLevel__Default=Error dotnet "$dir/CdsMitral.Service.dll" --environment Development --urls "http://127.0.0.1:$port" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/cds-services" >/dev/null && break; sleep 0.1; done
  for _ in $(seq "$CALLS"); do
    curl -sf -o /dev/null -H 'Content-Type: application/json' --data-binary "@$data/realistic-coapt.json" "http://127.0.0.1:$port/cds-services/secondary-mr-patient-view"
  done
  sleep 1
  kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"; }
  top=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6) ? $6 : "[anon]"; sub(/.*\//, "", name) } $1 == "Rss:" { rss[name] += $2 }
    END { for (n in rss) printf "%d %s\n", rss[n], n }' "/proc/$pid/smaps" | sort -rn | head -"${TOP:-6}" | awk '{ printf "%s %.1f, ", $2, $1 / 1024 }')
  printf '%-40s %8.0f %8.0f %8.0f %8.0f   %s\n' "$config" "$(($(kb VmRSS) / 1024))" "$(($(kb RssAnon) / 1024))" "$(($(kb RssFile) / 1024))" "$(($(kb RssShmem) / 1024))" "${top%, }"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
