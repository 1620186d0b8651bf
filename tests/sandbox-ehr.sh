#!/usr/bin/env bash
# A local SMART-enabled EHR holding the sample patients, and the service beside it: point the CDS Hooks Sandbox (or any
# CDS client) at them, fire a hook, and a card's "Open the Secondary MR Navigator" link opens the Navigator on that
# patient, end to end (launch registration, SMART discovery, authorization code with PKCE, chart reads, write-back).
#
#   bash tests/sandbox-ehr.sh
#
# EHR (FHIR R4 + SMART): http://127.0.0.1:${EHR_PORT:-8081}/fhir   service: http://localhost:${SERVICE_PORT:-5080}
# Needs Node.js with npm (tests/fhir-server is installed with npm ci on first use) and the .NET SDK. Stop with Ctrl-C.
# CDSMITRAL_SERVICE and CDSMITRAL_CLI override how the service and the CLI are run (default: dotnet run from source);
# any CdsMitral__… variable set here reaches the service.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ehr_port=${EHR_PORT:-8081}
service_port=${SERVICE_PORT:-5080}
read -r -a service <<< "${CDSMITRAL_SERVICE:-dotnet run --project $root/src/CdsMitral.Service --}"
read -r -a cli <<< "${CDSMITRAL_CLI:-dotnet run --project $root/src/CdsMitral.Cli --}"
fhir="http://127.0.0.1:$ehr_port/fhir"
site="http://localhost:$service_port"

cd "$root/tests/fhir-server"
if [ ! -d node_modules/@medplum/fhir-router ]; then
  echo "installing the sandbox EHR (npm ci in tests/fhir-server)…"
  npm ci --no-audit --no-fund --loglevel=error
fi
node=$root/tests/fhir-server/node_modules/.bin/node
[ -x "$node" ] || node=node

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT INT TERM

# Waits until a URL answers 2xx, with the Node that is installed anyway (no curl needed).
wait_for() {
  for _ in $(seq 1 "$2"); do
    "$node" -e "fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))" "$1" && return 0
    sleep 1
  done
  echo "$1 did not answer" >&2
  return 1
}

PORT=$ehr_port "$node" --experimental-websocket server.mjs &
pids+=($!)
wait_for "$fhir/metadata" 60

cd "$root"
"${cli[@]}" load "$fhir" "$root"/samples/patients/*.json

# Development: loopback FHIR servers allowed, client JWTs not verified (see README), the Sandbox's origin allowed by CORS.
"${service[@]}" --environment Development --urls "$site" &
pids+=($!)
wait_for "$site/health/live" 120

cat <<EOF

sandbox EHR ready
  EHR FHIR server (open; SMART endpoints beside it): $fhir
  CDS service:                                       $site/cds-services
  In the CDS Hooks Sandbox (https://sandbox.cds-hooks.org): set the FHIR server to $fhir, add the CDS service
  $site/cds-services, choose the patient coapt-profile, and press the card's "Open the Secondary MR Navigator".
  The Navigator signs in as Practitioner/sandbox-clinician with a token scoped to that patient.
EOF
wait
