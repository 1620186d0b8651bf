#!/usr/bin/env bash
# This disk's durable-write floor (bench/fsync-floor.c): write + fdatasync, appending and over a preallocated region,
# and write + fsync. The audit's commit at one connection cannot be faster than this.
# Usage: bench/fsync-floor.sh [count=2000] [bytes=8192] [dir=a temporary folder on the audit database's disk]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${3:-$(mktemp -d -p "${TMPDIR:-/tmp}")}
exe=$(mktemp)
trap 'rm -f "$exe"; [ -n "${3:-}" ] || rm -rf "$dir"' EXIT
cc -O2 -o "$exe" bench/fsync-floor.c
echo "command: bench/fsync-floor.sh ${1:-2000} ${2:-8192}; $(df -T "$dir" | awk 'NR == 2 { print $2 " on " $1 }'); load $(cut -d' ' -f1-3 /proc/loadavg)"
"$exe" "${1:-2000}" "${2:-8192}" "$dir"
