#!/usr/bin/env bash
# Retention at a health system's year (issue 24, scope 2): fills a store with a year of calls (bench/CdsMitral.Bench
# AuditYear, as bench/audit-scale.sh does), then starts the service with retention on and measures, on each store:
#   the first purge, when retention is switched on over the oldest 30 days (a backlog, in slices of 5,000 events):
#     events archived and removed, seconds, events/s, archive MiB, and hook p50/p99 under load while it runs;
#   the daily purge that follows (one more day): seconds and events;
#   hook p50/p99 after the purges, a quick verify (events read) and a full walk, and /audit/api/archives (seconds).
# Usage: bench/audit-retention.sh [size] [stores]   e.g. bench/audit-retention.sh 1000000 "Sqlite PostgreSql"
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-300000}
STORES=${2:-"Sqlite PostgreSql"}
PORT=${PORT:-5194}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
dotnet build -c Release src/CdsMitral.Service -v q -nologo >/dev/null
dotnet build -c Release bench/CdsMitral.Bench -v q -nologo >/dev/null
service=src/CdsMitral.Service/bin/Release/net10.0/CdsMitral.Service.dll
bench=bench/CdsMitral.Bench/bin/Release/net10.0/CdsMitral.Bench.dll
body=samples/requests/coapt-profile.patient-view.prefetch.json
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
export CdsMitral__Audit__ChainKey=$(head -c 32 /dev/urandom | base64)
export CdsMitral__Audit__CheckpointPath=$data/checkpoints.ndjson
export CdsMitral__Audit__ArchiveFolder=$data/archive
export CdsMitral__Audit__MaintenanceInterval=00:00:01
password=bench-auditor
hash=$(python3 -c "import hashlib,base64,os;s=os.urandom(16);print('pbkdf2-sha256\$10000\$'+base64.b64encode(s).decode()+'\$'+base64.b64encode(hashlib.pbkdf2_hmac('sha256',b'$password',s,10000)).decode())")
export CdsMitral__Audit__Auditors__0__User=bench CdsMitral__Audit__Auditors__0__PasswordHash=$hash
export CdsMitral__Callers__PermitLimit=100000000 Logging__LogLevel__Default=Error
export CdsMitral__Audit__FullVerifyInterval=00:00:00
# The year ends yesterday, so that "older than 335 days" is the oldest 30 days of it.
start_day=$(date -u -d '366 days ago' +%Y-%m-%d)
base="http://127.0.0.1:$PORT"
pid=""

up() {
  dotnet "$service" --environment Development --urls "$base" >>"$data/service.log" 2>&1 &
  pid=$!
  for _ in $(seq 6000); do curl -sf "$base/health/ready" >/dev/null 2>&1 && break; sleep 0.05; done
}
down() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
timed() { curl -s -o /dev/null -u "bench:$password" -w '%{time_total}' "$base$1"; }
sql() {
  if [ "$1" = Sqlite ]; then sqlite3 "$data/audit.db" "$2"
  else PGPASSWORD=cdsmitral psql -qtAh 127.0.0.1 -U cdsmitral -d cdsmitral_test -c "SET search_path = $schema; $2" | tail -1
  fi
}
hook() { # duration -> "p50/p99"
  BODY_FILE=$body wrk -t1 -c1 -d"$1" -s bench/post-hook.lua "$base/cds-services/secondary-mr-patient-view" | grep RESULT | sed -E 's/.*p50_ms=([0-9.]+) p99_ms=([0-9.]+).*/\1\/\2/'
}
purge() { # store days: starts the service with that retention; "events seconds" into $data/purge once the chain's
          # anchor reaches every event older than the cut (the service is left running)
  local store=$1 days=$2 cut target t0 t1
  cut=$(date -u -d "$days days ago" +%Y-%m-%dT00:00:00.0000000Z)
  target=$(sql "$store" "SELECT coalesce(max(seq), 0) FROM audit_events WHERE at < '$cut'")
  local from; from=$(sql "$store" "SELECT anchor_seq FROM chain_head")
  export CdsMitral__Audit__RetentionDays=$days
  t0=$(date +%s.%N)
  up
  ( hook 600s >"$data/during" ) & local w=$!
  while [ "$(sql "$store" "SELECT anchor_seq FROM chain_head")" -lt "$target" ]; do sleep 0.2; done
  t1=$(date +%s.%N)
  pkill -INT -f "wrk -t1 -c1 -d600s" 2>/dev/null || true; wait "$w" 2>/dev/null || true
  echo "$((target - from)) $(echo "$t1 - $t0" | bc)" >"$data/purge"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); Release build; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: bench/audit-retention.sh $SIZE \"$STORES\" at $(git rev-parse --short HEAD)"
for store in $STORES; do
  schema=""
  export CdsMitral__Audit__Store=$store
  if [ "$store" = Sqlite ]; then
    export CdsMitral__Audit__ConnectionString=$data/audit.db
  else
    pg=$(bash .ci/postgres.sh 2>/dev/null) || { echo "PostgreSql: no server (run .ci/postgres.sh)"; continue; }
    schema="retention_$(date +%s)"
    PGPASSWORD=cdsmitral psql -qh 127.0.0.1 -U cdsmitral -d cdsmitral_test -c "CREATE SCHEMA $schema" >/dev/null
    export CdsMitral__Audit__ConnectionString="$pg;Search Path=$schema"
  fi
  rm -rf "$CdsMitral__Audit__CheckpointPath" "$CdsMitral__Audit__ArchiveFolder"
  dotnet "$bench" fill "$SIZE" 1 "$start_day" 2>/dev/null | sed 's/^/  /'
  export CdsMitral__Audit__RetentionDays=0
  # The first start after the load folds a year of insights (tens of seconds): waited for, so the figures are not taken beside it.
  up; timed "/audit/insights?from=$start_day" >/dev/null; timed "/audit/api/verify?full=true" >/dev/null; before=$(hook 10s); down
  purge "$store" 335; read -r events secs <"$data/purge"
  during=$(cat "$data/during")
  mib=$(du -sm "$CdsMitral__Audit__ArchiveFolder" | cut -f1)
  files=$(ls "$CdsMitral__Audit__ArchiveFolder" | wc -l)
  printf '%-10s %9s calls  hook p50/p99 before %s ms\n' "$store" "$SIZE" "$before"
  printf '  first purge (oldest 30 days): %s events in %.1f s (%.0f/s, from start-up), %s archives, %s MiB; hook p50/p99 while it ran %s ms\n' \
    "$events" "$secs" "$(echo "$events / $secs" | bc -l)" "$files" "$mib" "${during:-n/a}"
  after=$(hook 10s)
  printf '  after: hook p50/p99 %s ms;  full walk %ss;  quick verify after it %ss;  /audit/api/archives %ss (intact: %s)\n' \
    "$after" "$(timed "/audit/api/verify?full=true")" "$(timed /audit/api/verify)" "$(timed /audit/api/archives)" \
    "$(curl -s -u "bench:$password" "$base/audit/api/archives" | python3 -c 'import json,sys; print(json.load(sys.stdin)["intact"])')"
  down
  purge "$store" 334; read -r events secs <"$data/purge"
  printf '  the next day'"'"'s purge: %s events in %.1f s from start-up;  load %s\n' "$events" "$secs" "$(cut -d' ' -f1-3 /proc/loadavg)"
  down
  if [ -n "$schema" ]; then
    PGPASSWORD=cdsmitral PGOPTIONS="--client-min-messages=warning" psql -qh 127.0.0.1 -U cdsmitral -d cdsmitral_test -c "DROP SCHEMA $schema CASCADE" >/dev/null
  fi
  rm -f "$data"/audit.db*
done
