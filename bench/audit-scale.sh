#!/usr/bin/env bash
# The audit trail at the size of a health system's year (issue 24): fills a store in bulk with realistic years
# (bench/CdsMitral.Bench AuditYear: hook calls from every sample, ~7 in 10 without a card, feedback on 1 card in 10,
# stand-backs for "already evaluated" overrides, 60,000 patients, 2,500 users, two EHRs, spread over the last 365 days)
# and measures, on the empty store and at each size:
#   hook p50/p99 (wrk, 1 connection, the coapt-profile sample), time to ready after a restart,
#   /audit list, search by patient, card uuid, rule and a week's date range (p50/p95 of N requests each),
#   /audit/api/verify (a full walk, then a quick check), the store's size on disk, the first /audit/insights after the
#   load (it folds what the load added), /audit/insights over 30 and 365 days, and CSV export of 30 and 365 days (rows/s,
#   the service's peak RSS growth).
# Sizes add up in one store (100k, then 200k more for 300k, then 700k more for 1M); each pass is a year of its own, so
# every size is a full year. Needs wrk and curl; PostgreSQL comes from .ci/postgres.sh.
# Usage: bench/audit-scale.sh [sizes] [stores]   e.g. bench/audit-scale.sh "100000 300000 1000000" "Sqlite PostgreSql"
#   N=20 requests per page figure; HOOK=10s of hook load per size.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${1:-"100000 300000 1000000"}
STORES=${2:-"Sqlite PostgreSql"}
N=${N:-20}
HOOK=${HOOK:-10s}
PORT=${PORT:-5193}
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
password=bench-auditor
# 10,000 PBKDF2 iterations (the least the service takes) so the figures are the queries', not the sign-in's; the
# production default of 600,000 adds its own cost to every auditor request, measured once below.
hash=$(python3 -c "import hashlib,base64,os;s=os.urandom(16);print('pbkdf2-sha256\$10000\$'+base64.b64encode(s).decode()+'\$'+base64.b64encode(hashlib.pbkdf2_hmac('sha256',b'$password',s,10000)).decode())")
export CdsMitral__Audit__Auditors__0__User=bench CdsMitral__Audit__Auditors__0__PasswordHash=$hash
export CdsMitral__Callers__PermitLimit=100000000 Logging__LogLevel__Default=Error
# The scheduled full walk would run beside the figures; the script times one itself.
export CdsMitral__Audit__FullVerifyInterval=00:00:00
start_day=$(date -u -d '365 days ago' +%Y-%m-%d)
base="http://127.0.0.1:$PORT"
pid=""

up() { # start the service on the store; sets pid and ready (seconds to /health/ready)
  local t0; t0=$(date +%s.%N)
  dotnet "$service" --environment Development --urls "$base" >"$data/service.log" 2>&1 &
  pid=$!
  for _ in $(seq 6000); do curl -sf "$base/health/ready" >/dev/null 2>&1 && break; sleep 0.05; done
  ready=$(echo "$(date +%s.%N) - $t0" | bc)
}
down() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }

pct() { # N timings (ms) on stdin -> "p50/p95"
  sort -n | awk '{ a[NR] = $1 } END { p50 = a[int(NR * 0.5 + 0.999)]; p95 = a[int(NR * 0.95 + 0.999)]; printf "%.0f/%.0f", p50, p95 }'
}
page() { # path -> p50/p95 ms over N requests
  for _ in $(seq "$N"); do
    curl -s -o /dev/null -u "bench:$password" -w '%{http_code} %{time_total}\n' "$base$1"
  done | awk '$1 != 200 { print "HTTP " $1 > "/dev/stderr" } { print $2 * 1000 }' | pct
}
export_csv() { # path -> "rows rows/s +peakMiB"
  local before peak=0 rss out t0 t1
  before=$(awk '/VmRSS/ { print $2 }' /proc/"$pid"/status)
  t0=$(date +%s.%N)
  curl -s -u "bench:$password" "$base$1" -o "$data/export.csv" &
  local c=$!
  while kill -0 "$c" 2>/dev/null; do
    rss=$(awk '/VmRSS/ { print $2 }' /proc/"$pid"/status); [ "$rss" -gt "$peak" ] && peak=$rss; sleep 0.05
  done
  t1=$(date +%s.%N)
  local rows; rows=$(($(wc -l <"$data/export.csv") - 1))
  awk -v r="$rows" -v s="$(echo "$t1 - $t0" | bc)" -v p="$peak" -v b="$before" 'BEGIN { printf "%d rows %.0f/s +%.0fMiB", r, r / s, (p - b) / 1024 }'
}
timed() { # path -> seconds for one request
  curl -s -o /dev/null -u "bench:$password" -w '%{time_total}' "$base$1"
}
size_of() { # store -> MiB on disk
  if [ "$1" = Sqlite ]; then du -cm "$data"/audit.db* | tail -1 | cut -f1
  else PGPASSWORD=cdsmitral psql -qtAh 127.0.0.1 -U cdsmitral -d cdsmitral_test -c \
    "SELECT round(sum(pg_total_relation_size(c.oid)) / 1048576.0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '$schema' AND c.relkind IN ('r', 'm')"
  fi
}
sql() { # store query -> the first column of the first row
  if [ "$1" = Sqlite ]; then sqlite3 "$data/audit.db" "$2"
  else PGPASSWORD=cdsmitral psql -qtAh 127.0.0.1 -U cdsmitral -d cdsmitral_test -c "SET search_path = $schema; $2" | tail -1
  fi
}
one() { # store size -> the figures of one size
  local store=$1 size=$2 hook card
  up
  # The insights fold each event once, in the background from start-up: the first request after a bulk load waits for
  # the fold of all of it (as the first after an upgrade would). Timed first, so the figures below are not taken beside it.
  fold=$(timed "/audit/insights?from=$start_day")
  BODY_FILE=$body wrk -t1 -c1 -d5s -s bench/post-hook.lua "$base/cds-services/secondary-mr-patient-view" >/dev/null
  hook=$(BODY_FILE=$body wrk -t1 -c1 -d"$HOOK" -s bench/post-hook.lua "$base/cds-services/secondary-mr-patient-view" | grep RESULT | sed -E 's/.*p50_ms=([0-9.]+) p99_ms=([0-9.]+).*/\1\/\2/')
  card=$(sql "$store" "SELECT card_uuid FROM cards ORDER BY card_uuid LIMIT 1 OFFSET (SELECT count(*) / 2 FROM cards)")
  printf '%-10s %9s  ready %5.1fs  insights fold after the load %5.1fs  hook p50/p99 %s ms\n' "$store" "$size" "$ready" "$fold" "$hook"
  # The full walk first (a process's first check is one; the list page would otherwise start it beside the figures).
  printf '  verify: full walk %ss, quick check after it %ss;  on disk %s MiB\n' "$(timed "/audit/api/verify?full=true")" "$(timed /audit/api/verify)" "$(size_of "$store")"
  printf '  pages p50/p95 ms: list %s  patient %s  card %s  rule %s  week %s\n' \
    "$(page /audit)" "$(page "/audit?patient=p4242")" "$(page "/audit?card=$card")" "$(page /audit?rule=smr-gdmt-gap)" \
    "$(page "/audit?from=$(date -u -d '100 days ago' +%Y-%m-%d)&to=$(date -u -d '94 days ago' +%Y-%m-%d)")"
  printf '  insights p50/p95 ms: 30 days %s  365 days %s\n' \
    "$(page "/audit/insights?from=$(date -u -d '30 days ago' +%Y-%m-%d)")" "$(page "/audit/insights?from=$start_day")"
  printf '  export csv: 30 days %s;  365 days %s\n' \
    "$(export_csv "/audit/export.csv?from=$(date -u -d '30 days ago' +%Y-%m-%d)")" "$(export_csv "/audit/export.csv?from=$start_day")"
  down
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); Release build; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: bench/audit-scale.sh \"$SIZES\" \"$STORES\" (N=$N, HOOK=$HOOK) at $(git rev-parse --short HEAD)"
for store in $STORES; do
  schema=""
  export CdsMitral__Audit__Store=$store
  if [ "$store" = Sqlite ]; then
    export CdsMitral__Audit__ConnectionString=$data/audit.db
  else
    pg=$(bash .ci/postgres.sh 2>/dev/null) || { echo "PostgreSql: no server (run .ci/postgres.sh)"; continue; }
    schema="scale_$(date +%s)"
    PGPASSWORD=cdsmitral psql -qh 127.0.0.1 -U cdsmitral -d cdsmitral_test -c "CREATE SCHEMA $schema" >/dev/null
    export CdsMitral__Audit__ConnectionString="$pg;Search Path=$schema"
  fi
  rm -f "$CdsMitral__Audit__CheckpointPath"
  one "$store" 0
  filled=0 seed=1
  for size in $SIZES; do
    dotnet "$bench" fill $((size - filled)) "$seed" "$start_day" 2>/dev/null | sed 's/^/  /'
    filled=$size seed=$((seed + 1))
    one "$store" "$size"
  done
  if [ -n "$schema" ]; then
    PGPASSWORD=cdsmitral PGOPTIONS="--client-min-messages=warning" psql -qh 127.0.0.1 -U cdsmitral -d cdsmitral_test -c "DROP SCHEMA $schema CASCADE" >/dev/null
  fi
  rm -f "$data"/audit.db*
done
