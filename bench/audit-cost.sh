#!/usr/bin/env bash
# What the durable audit costs per call, and how the service stands against the CDS Hooks reference services, in one
# run: every configuration runs at once on its own port (idle ones cost nothing), and each round loads them one after
# the other in an order that flips every round, so drift on this shared machine falls on all of them.
#
# Per configuration and concurrency it prints req/s, p50/p99 and the CPU each call cost: the service process's
# utime+stime over the load (from /proc) divided by the calls; with PostgreSQL also the database server's processes.
# The request is bench/CdsMitral.Bench's realistic one (about 41 KB: 52 Observations, 12 medications, a named patient).
#
# Usage: bench/audit-cost.sh [duration=5s] [rounds=4] [connections="8 32"] CONFIG...
#   CONFIG is name=build:store[:VAR=value,...], for example base=/tmp/base:Sqlite, now=/tmp/now:None or
#   nowx=/tmp/now:Sqlite:DOTNET_EnableWriteXorExecute=0 (runtime knobs, set for that process only); store is None, Sqlite or
#   PostgreSql (PostgreSQL from .ci/postgres.sh, a fresh schema per configuration). A build is a publish folder
#   (`dotnet publish src/CdsMitral.Service -c Release -r linux-x64 --self-contained false -o DIR`).
#   CONFIG ref=DIR:reference is the reference services (github.com/cds-hooks/sandbox-cds-services, checked out in DIR
#   with its production packages installed: bench/reference-services.sh DIR), called on patient-greeting.
#   WARM=20: seconds of warm-up per configuration at 8 connections (the JIT's tiering settles in 10-30 s).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-5s}
ROUNDS=${2:-4}
CONNECTIONS=${3:-8 32}
shift 3 || { echo "usage: bench/audit-cost.sh duration rounds \"connections\" name=build:store..." >&2; exit 2; }
(( $# > 0 )) || { echo "no configuration given" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
data=$(mktemp -d)
dotnet run -c Release --project bench/CdsMitral.Bench -- requests "$data" >/dev/null
body=$data/realistic-coapt.json
pg=""
pids=()
schemas=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for s in "${schemas[@]}"; do
    PGPASSWORD=cdsmitral PGOPTIONS="--client-min-messages=warning" psql -qh 127.0.0.1 -U cdsmitral -d cdsmitral_test -c "DROP SCHEMA $s CASCADE" >/dev/null || true
  done
  rm -rf "$data"
}
trap cleanup EXIT

declare -A url pid store
names=()
port=5240
for config in "$@"; do
  name=${config%%=*}; IFS=: read -r dir kind knobs <<<"${config#*=}"; IFS=, read -ra knobs <<<"${knobs:-}"
  names+=("$name"); store[$name]=$kind; port=$((port + 1))
  if [ "$kind" = reference ]; then
    [ -d "$dir/node_modules/express" ] || { echo "$dir has no packages: bench/reference-services.sh $dir" >&2; exit 1; }
    (cd "$dir" && PORT=$port exec node server.js >/dev/null 2>&1) &
    url[$name]="http://127.0.0.1:$port/cds-services/patient-greeting"
  else
    conn=""
    case $kind in
      Sqlite) conn="$data/$name.db"
        for k in "${knobs[@]}"; do  # SQLITE_PAGE_SIZE=n: the file made with that page size before the service opens it
          case $k in SQLITE_PAGE_SIZE=*) sqlite3 "$conn" "PRAGMA page_size=${k#*=}; PRAGMA journal_mode=WAL;" >/dev/null ;; esac
        done ;;
      PostgreSql)
        [ -n "$pg" ] || pg=$(bash .ci/postgres.sh 2>/dev/null) || { echo "PostgreSQL is needed: .ci/postgres.sh" >&2; exit 1; }
        schema="cost_${name//[^a-z0-9]/_}_$(date +%s)"; schemas+=("$schema")
        PGPASSWORD=cdsmitral psql -qh 127.0.0.1 -U cdsmitral -d cdsmitral_test -c "CREATE SCHEMA $schema" >/dev/null
        conn="$pg;Search Path=$schema" ;;
    esac
    env "${knobs[@]}" CdsMitral__Bench__BaselineEndpoint=true CdsMitral__Audit__Store=$kind CdsMitral__Audit__ConnectionString="$conn" \
    CdsMitral__Audit__SpoolPath="$data/spool-$name" CdsMitral__Callers__PermitLimit=100000000 Logging__LogLevel__Default=Error \
      dotnet "$dir/CdsMitral.Service.dll" --environment Development --urls "http://127.0.0.1:$port" >/dev/null 2>&1 &
    url[$name]="http://127.0.0.1:$port/cds-services/secondary-mr-patient-view"
  fi
  pid[$name]=$!; pids+=("$!")
done
for name in "${names[@]}"; do
  for _ in $(seq 300); do
    curl -sf -o /dev/null -H 'Content-Type: application/json' --data-binary "@$body" "${url[$name]}" && break
    kill -0 "${pid[$name]}" 2>/dev/null || { echo "$name exited before it answered" >&2; exit 1; }
    sleep 0.1
  done
done

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }                     # utime + stime of one process, in clock ticks
pg_ticks() { # "pid ticks" of every PostgreSQL server process: the postmaster, its backends and workers
  local f
  for f in /proc/[0-9]*/stat; do
    read -r line < "$f" 2>/dev/null || continue
    case $line in *"(postgres)"*) set -- ${line#*) }; echo "${f//[^0-9]/} $((${12} + ${13}))" ;; esac
  done
}
pg_delta() { # ticks the PostgreSQL processes of the second list spent since the first (a process new since then: all of its own)
  awk 'NR == FNR { before[$1] = $2; next } { sum += $2 - ($1 in before ? before[$1] : 0) } END { print sum + 0 }' <(echo "$1") <(echo "$2")
}
hz=$(getconf CLK_TCK)
load() { # name connections duration -> "rps p50 p99 cpu_us pg_us" (pg_us "-" unless the store is PostgreSQL)
  local name=$1 out before after pgb="" pga="" postgres=""
  [ "${store[$name]}" = PostgreSql ] && postgres=1
  before=$(ticks "${pid[$name]}"); [ -z "$postgres" ] || pgb=$(pg_ticks)
  out=$(BODY_FILE=$body wrk -t1 -c"$2" -d"$3" -s bench/post-hook.lua "${url[$name]}" | grep RESULT)
  after=$(ticks "${pid[$name]}"); [ -z "$postgres" ] || pga=$(pg_ticks)
  case "$out" in *"errors=0 non200=0"*) ;; *) echo "FAILED against $name: $out" >&2; exit 1 ;; esac
  awk -v b="$before" -v a="$after" -v pg="${postgres:+$(pg_delta "$pgb" "$pga")}" -v hz="$hz" '{
    for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
    printf "%s %s %s %.0f %s\n", r["rps"], r["p50_ms"], r["p99_ms"], (a - b) / hz * 1e6 / r["requests"],
      pg == "" ? "-" : sprintf("%.0f", pg / hz * 1e6 / r["requests"]) }' <<<"$out"
}

for name in "${names[@]}"; do
  BODY_FILE=$body wrk -t1 -c8 -d"${WARM:-20}s" -s bench/post-hook.lua "${url[$name]}" >/dev/null
done
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); node $(node --version); wrk 1 thread; request $(wc -c <"$body") bytes"
echo "command: bench/audit-cost.sh $DURATION $ROUNDS \"$CONNECTIONS\" $*"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); warm-up ${WARM:-20} s per configuration"
steal() { awk '$1 == "cpu" { print $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
read -r steal0 total0 < <(steal)
printf '%-6s %-5s %-14s %9s %7s %7s %9s %9s\n' round conns config req/s p50_ms p99_ms cpu_us pg_us | tee "$data/table"
for r in $(seq "$ROUNDS"); do
  order=("${names[@]}")
  if (( r % 2 == 0 )); then order=(); for ((i = ${#names[@]} - 1; i >= 0; i--)); do order+=("${names[$i]}"); done; fi
  for c in $CONNECTIONS; do
    for name in "${order[@]}"; do
      read -r rps p50 p99 cpu pgcpu < <(load "$name" "$c" "$DURATION")
      printf '%-6s %-5s %-14s %9s %7s %7s %9s %9s\n' "$r" "$c" "$name" "$rps" "$p50" "$p99" "$cpu" "$pgcpu" | tee -a "$data/table"
    done
  done
done
read -r steal1 total1 < <(steal)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); time stolen by the host during the rounds: $(( 100 * (steal1 - steal0) / (total1 - total0 + 1) )) %"
# Medians over the rounds; CPU per call against the first configuration with the audit off (store None), req/s against
# the reference services when they ran.
off=""; ref=""
for name in "${names[@]}"; do
  [ -z "$off" ] && [ "${store[$name]}" = None ] && off=$name
  [ -z "$ref" ] && [ "${store[$name]}" = reference ] && ref=$name
done
echo "medians of $ROUNDS rounds${off:+ (cpu/$off: CPU per call against audit off)}${ref:+ (rps/$ref: req/s against the reference services)}"
awk -v off="$off" -v ref="$ref" 'NR > 1 {
    key = $2 SUBSEP $3; n[key]++; rps[key, n[key]] = $4; p50[key, n[key]] = $5; cpu[key, n[key]] = $7; pg[key, n[key]] = $8
    if (!seen[$3]++) order[++configs] = $3; if (!cseen[$2]++) conns[++nc] = $2 }
  function median(a, key, count,   v, i, j, t) {
    for (i = 1; i <= count; i++) v[i] = a[key, i] + 0
    for (i = 1; i <= count; i++) for (j = i + 1; j <= count; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return count % 2 ? v[(count + 1) / 2] : (v[count / 2] + v[count / 2 + 1]) / 2 }
  END {
    printf "%-5s %-14s %9s %7s %9s %9s %11s %11s\n", "conns", "config", "req/s", "p50_ms", "cpu_us", "pg_us", off != "" ? "cpu/" off : "-", ref != "" ? "rps/" ref : "-"
    for (c = 1; c <= nc; c++) for (i = 1; i <= configs; i++) {
      k = conns[c] SUBSEP order[i]; if (!n[k]) continue
      cr = off != "" ? sprintf("%.2f", median(cpu, k, n[k]) / median(cpu, conns[c] SUBSEP off, n[conns[c] SUBSEP off])) : "-"
      rr = ref != "" ? sprintf("%.2f", median(rps, k, n[k]) / median(rps, conns[c] SUBSEP ref, n[conns[c] SUBSEP ref])) : "-"
      printf "%-5s %-14s %9.0f %7.2f %9.0f %9s %11s %11s\n", conns[c], order[i], median(rps, k, n[k]), median(p50, k, n[k]), median(cpu, k, n[k]),
        pg[k, 1] == "-" ? "-" : sprintf("%.0f", median(pg, k, n[k])), cr, rr } }' "$data/table"
echo "resident memory now (MiB): $(for name in "${names[@]}"; do printf '%s=%s ' "$name" "$(awk '$1 == "VmRSS:" { printf "%.0f", $2 / 1024 }' "/proc/${pid[$name]}/status")"; done)"
echo "peak resident memory (MiB): $(for name in "${names[@]}"; do printf '%s=%s ' "$name" "$(awk '$1 == "VmHWM:" { printf "%.0f", $2 / 1024 }' "/proc/${pid[$name]}/status")"; done)"
