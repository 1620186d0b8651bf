#!/usr/bin/env bash
# Refused calls that cost little (issue 12, finding 5): CALLS garbage-JWT hook calls, each with a 7 KB path, from one
# address on loopback, against a Release build in Production settings (SQLite audit store, Information log on stdout).
# Prints the bytes they add to the audit store (database + WAL + spool) and to the log. Budget: under 2 MB for 5,000.
# The second run lifts the unverified callers' limit, to show what each refusal costs when every one is recorded.
# Usage: bench/refused-calls.sh [calls=5000] [parallel=16]
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS=${1:-5000}
PARALLEL=${2:-16}
PORT=${PORT:-5194}
dotnet build -c Release src/CdsMitral.Service -v q -nologo >/dev/null
out=src/CdsMitral.Service/bin/Release/net10.0
data=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$data"' EXIT

path="/cds-services/$(head -c 7168 /dev/zero | tr '\0' x)"
{
  echo 'silent'
  echo 'request = "POST"'
  echo 'header = "Content-Type: application/json"'
  echo 'header = "Authorization: Bearer eyJhbGciOiJFUzM4NCJ9.Z2FyYmFnZQ.c2lnbmF0dXJl"'
  echo 'data = "{\"hook\":\"patient-view\"}"'
  echo 'write-out = "%{http_code}\n"'
  for _ in $(seq "$CALLS"); do echo "url = \"http://127.0.0.1:$PORT$path\""; echo 'output = "/dev/null"'; done
} > "$data/curl.conf"

bytes() { find "$data/run" -type f \( -name 'audit.db*' -o -name 'spool*' \) -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }

run() { # label unverified-limit
  rm -rf "$data/run" && mkdir -p "$data/run"
  CdsMitral__PublicBaseUrl="http://127.0.0.1:$PORT" CdsMitral__Callers__UnverifiedPermitLimit="$2" \
  CdsMitral__Audit__ConnectionString="$data/run/audit.db" CdsMitral__Audit__SpoolPath="$data/run/spool.ndjson" \
  CdsMitral__Trust__Clients__0__Issuer=https://sandbox.cds-hooks.org CdsMitral__Trust__Clients__0__JwksFile=presets/cds-hooks-sandbox.jwks.json \
    dotnet "$out/CdsMitral.Service.dll" --environment Production --urls "http://127.0.0.1:$PORT" >"$data/run/service.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health/live" >/dev/null && break; sleep 0.1; done
  sleep 1
  local store0 log0 start
  store0=$(bytes); log0=$(stat -c %s "$data/run/service.log"); start=$(date +%s.%N)
  curl --no-progress-meter --parallel --parallel-max "$PARALLEL" -K "$data/curl.conf" > "$data/run/codes.txt" || true
  local seconds
  seconds=$(echo "$(date +%s.%N) - $start" | bc)
  sleep 2   # the limiter's window is 60 s: the episode's count is written at its end or on shutdown, see below
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  local store log codes
  store=$(( $(bytes) - store0 )); log=$(( $(stat -c %s "$data/run/service.log") - log0 ))
  codes=$(sort "$data/run/codes.txt" | uniq -c | awk '{ printf "%s×%s ", $2, $1 }')
  printf '%-28s %6d calls in %5.1f s  answers: %-22s store +%8d B  log +%8d B  together %6.2f MB (%d B per call)\n' \
    "$1" "$CALLS" "$seconds" "$codes" "$store" "$log" "$(echo "($store + $log) / 1048576" | bc -l)" $(( (store + log) / CALLS ))
}

echo "machine: $(nproc) cores; Release build, Production settings, SQLite audit, Information log; curl, $PARALLEL in parallel, one address"
echo "command: bench/refused-calls.sh $CALLS $PARALLEL   (each call: POST, 7 KB path, a garbage JWT)"
run "default limits (60/min)" 60
run "unverified limit lifted" 100000000
