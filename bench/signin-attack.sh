#!/usr/bin/env bash
# Does a flood of wrong auditor passwords slow the hooks? Measures the hook's median latency alone, then while
# 16 loops post wrong passwords to /audit, and prints both medians and their ratio (the budget: under 2x).
# Two attacks: "one-address" (16 loops from 127.0.0.1 against the auditor's name, as in issue 12) and "spread"
# (each loop from its own loopback address, 127.0.0.11-26, with invented names: the per-address back-off then
# lets each address try a few times, and only the one-at-a-time bound on PBKDF2 protects the hooks).
# Each loop sends at most ATTACK_RATE requests a second, never more than ATTACK_MAX, for at most ATTACK_SECONDS,
# and only to loopback.
# Usage: bench/signin-attack.sh [hook-requests-per-measurement]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
THREADS=${THREADS:-16}
ATTACK_SECONDS=${ATTACK_SECONDS:-60}
ATTACK_MAX=${ATTACK_MAX:-1000}
ATTACK_RATE=${ATTACK_RATE:-10} # per loop and second: 160/s in all, ~36x what the old service could even check
SERVICE_PORT=${SERVICE_PORT:-5191}
SAMPLE=samples/requests/coapt-profile.patient-view.prefetch.json
base="http://127.0.0.1:$SERVICE_PORT"
work=$(mktemp -d)
service=
loops=()

cleanup() {
  for pid in "${loops[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -n "$service" ] && kill "$service" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

dotnet build -c Release src/CdsMitral.Service -v q -nologo >/dev/null

start_service() {
  rm -rf "$work/data"; mkdir -p "$work/data"
  # Development settings: client JWTs off, one auditor ("auditor") with a 600,000-iteration PBKDF2 hash.
  CdsMitral__Audit__ConnectionString="$work/data/audit.db" CdsMitral__Audit__SpoolPath="$work/data/spool.ndjson" \
  CdsMitral__Callers__PermitLimit=1000000 Logging__LogLevel__Default=Warning \
    dotnet src/CdsMitral.Service/bin/Release/net10.0/CdsMitral.Service.dll --environment Development --urls "$base" >"$work/service.log" 2>&1 &
  service=$!
  for _ in $(seq 100); do curl -sf "$base/health/live" >/dev/null && return; sleep 0.2; done
  echo "the service did not start; its log:" >&2; cat "$work/service.log" >&2; exit 1
}
stop_service() { kill "$service"; wait "$service" 2>/dev/null || true; service=; }

hook_times() { # count -> one time_total (ms) per line; a call that is not 200 stops the run
  for _ in $(seq "$1"); do
    read -r code seconds < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H 'Content-Type: application/json' \
      --data @"$SAMPLE" "$base/cds-services/secondary-mr-patient-view")
    if [ "$code" != 200 ]; then echo "hook answered HTTP $code: not measuring failures" >&2; exit 1; fi
    awk -v s="$seconds" 'BEGIN { printf "%.2f\n", s * 1000 }'
  done
}
median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

attack_loop() { # index mode -> status codes, one per line, into a file
  # One curl per loop, on one kept-alive connection, so the load generator itself costs the 2 cores little.
  local i=$1 mode=$2 from=() urls="$work/urls-$mode-$i.txt"
  if [ "$mode" = spread ]; then from=(--interface "127.0.0.$((11 + i))"); fi
  for n in $(seq "$ATTACK_MAX"); do
    user=auditor; [ "$mode" = spread ] && user="guess-$i-$n"
    echo "url = \"http://$user:wrong-$n@127.0.0.1:$SERVICE_PORT/audit\""
    echo 'output = "/dev/null"'
  done >"$urls"
  # exec: the loop's pid becomes timeout's, which passes a kill on to curl (stdbuf keeps each answer's line).
  exec timeout "$ATTACK_SECONDS" stdbuf -oL curl -s --rate "$ATTACK_RATE/s" --max-time 10 "${from[@]}" -w '%{http_code} %{time_total}\n' -K "$urls" \
    >"$work/attack-$mode-$i.txt"
}

run() { # mode
  local mode=$1
  start_service
  hook_times 100 >/dev/null # warm-up: JIT tiers, connections, the audit store
  local alone attacked
  hook_times "$N" >"$work/alone.txt"
  loops=()
  for i in $(seq 0 $((THREADS - 1))); do attack_loop "$i" "$mode" & loops+=($!); done
  sleep 3 # let the attack reach full speed
  attacked=$(hook_times "$N" | median)
  for pid in "${loops[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait "${loops[@]}" 2>/dev/null || true
  loops=()
  # Alone again afterwards: the machine is shared, so "alone" is measured on both sides of the attack.
  hook_times "$N" >>"$work/alone.txt"
  alone=$(median <"$work/alone.txt")
  stop_service
  [ -n "${KEEP:-}" ] && cat "$work"/attack-"$mode"-*.txt > "$KEEP-$mode.txt"
  local answers
  answers=$(cat "$work"/attack-"$mode"-*.txt | awk '{ print $1 }' | sort | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')
  printf '%-12s hook median alone (before and after) %7.1f ms   under attack %7.1f ms   ratio %5.2fx   (attack answers: %s)\n' \
    "$mode" "$alone" "$attacked" "$(awk -v a="$alone" -v b="$attacked" 'BEGIN { print b / a }')" "$answers"
}

echo "machine: $(nproc) cores; $(dotnet --version) SDK; Release build; sample $(basename "$SAMPLE"), $N sequential hook calls per median"
echo "command: THREADS=$THREADS ATTACK_RATE=$ATTACK_RATE ATTACK_SECONDS=$ATTACK_SECONDS ATTACK_MAX=$ATTACK_MAX bench/signin-attack.sh $N"
for mode in ${MODES:-one-address spread}; do run "$mode"; done
