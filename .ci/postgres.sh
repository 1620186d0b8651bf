#!/usr/bin/env bash
# Installs (from Debian's packages) and starts a local PostgreSQL for the audit tests, and prints the connection
# string to export as CDSMITRAL_TEST_POSTGRES. Safe to run again. Used by .ci/run; developers run it too.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -q "^$version main$"; then
  pg_createcluster "$version" main >&2
fi
pg_ctlcluster "$version" main start >&2 2>/dev/null || true   # already running is fine
for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
as_postgres() { su postgres -c "$1"; }
as_postgres "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname = 'cdsmitral'\"" | grep -q 1 \
  || as_postgres "psql -qc \"CREATE ROLE cdsmitral LOGIN SUPERUSER PASSWORD 'cdsmitral'\"" >&2
as_postgres "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = 'cdsmitral_test'\"" | grep -q 1 \
  || as_postgres "createdb -O cdsmitral cdsmitral_test" >&2
echo "Host=127.0.0.1;Port=5432;Username=cdsmitral;Password=cdsmitral;Database=cdsmitral_test"
