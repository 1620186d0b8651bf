#!/usr/bin/env bash
# Builds and runs the service's image where public image registries cannot be reached but Debian's packages can:
#   1. a base image made from Debian packages (mmdebstrap: bookworm, minbase, plus what a self-contained .NET app needs),
#   2. the service published on the host (self-contained, ReadyToRun), in a build context of its own,
#   3. podman build --target local of the repository's Dockerfile (the same settings, user, volume and health check as
#      the default target, which builds in Microsoft's SDK image elsewhere),
#   4. the image run as it would be in production: read-only root filesystem, a data volume, a chain key as a secret;
#      /health/ready and one patient-view hook must answer from inside it, and its health check must pass.
# Needs podman and mmdebstrap (apt-get install podman mmdebstrap) and root or rootless podman that can run containers.
# Usage: bash container/build.sh [image-name]   (CONTAINER_PORT=18080 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
image=${1:-localhost/cdsmitral:dev}
port=${CONTAINER_PORT:-18080}
work=$(mktemp -d)
name="cdsmitral-check-$$"
cleanup() { podman rm -f "$name" >/dev/null 2>&1 || podman --runtime runc rm -f "$name" >/dev/null 2>&1 || true; podman volume rm -f "$name-data" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
for tool in podman mmdebstrap; do
  command -v "$tool" >/dev/null || { echo "container/build.sh needs $tool: apt-get install podman mmdebstrap" >&2; exit 1; }
done

step() { printf '\n== %s\n' "$*"; }

base=localhost/cdsmitral-base:bookworm
if ! podman image exists "$base"; then
  step "base image from Debian packages (mmdebstrap bookworm minbase)"
  # What a self-contained .NET app needs from the system (https://learn.microsoft.com/dotnet/core/install/linux-debian):
  # libc, libgcc, libstdc++, ICU, OpenSSL, zlib, CA certificates, time zones.
  mmdebstrap --variant=minbase --include=ca-certificates,libicu72,libssl3,libstdc++6,zlib1g,tzdata \
    --aptopt='Acquire::Retries "3"' bookworm "$work/base.tar"
  podman import --change 'CMD ["/bin/bash"]' "$work/base.tar" "$base"
fi

step "publish on the host (self-contained, ReadyToRun)"
dotnet publish src/CdsMitral.Service/CdsMitral.Service.csproj -c Release -r linux-x64 --self-contained \
  -o "$work/context/publish/app" -nologo -v q
mkdir -p "$work/context/publish/data"

step "podman build --target local"
# Docker format: OCI images have no HEALTHCHECK.
podman build --format docker --target local --build-arg RUNTIME_IMAGE="$base" -t "$image" -f Dockerfile "$work/context"
podman image inspect "$image" --format 'user {{.Config.User}}; healthcheck {{.Config.Healthcheck.Test}}; size {{.Size}} bytes'

step "run: read-only root, a data volume, the chain key and a trusted EHR's public key as secret files"
head -c 32 /dev/urandom | base64 > "$work/chain.key"
cli() { dotnet src/CdsMitral.Cli/bin/Release/net10.0/CdsMitral.Cli.dll "$@"; }
dotnet build -c Release src/CdsMitral.Cli -nologo -v q >/dev/null
cli keys new --kid container-check --out "$work/keys" >/dev/null
chmod 644 "$work/chain.key" "$work/keys/container-check.jwks.json"
podman volume create "$name-data" >/dev/null
# podman's defaults first. Inside a VM sandbox (as on the project's build machines) crun may refuse podman's default
# rlimits (above the host's hard limits) and a hybrid cgroup hierarchy: then runc, cgroupfs, and rlimits within the host's.
pod=(podman)
limits=()
probe=(run --rm --no-healthcheck --entrypoint /bin/sh "$image" -c true)
if ! podman "${probe[@]}" 2>"$work/why"; then
  echo "podman's defaults cannot run a container here: $(grep -o 'crun: [^:]*: [^:]*' "$work/why" | head -1)"
  echo "retrying with runc, the cgroupfs manager and rlimits within the host's (nofile $(ulimit -Hn), nproc $(ulimit -Hu))"
  command -v runc >/dev/null || { echo "needs runc: apt-get install runc" >&2; exit 1; }
  pod=(podman --runtime runc --cgroup-manager=cgroupfs)
  limits=(--ulimit "nofile=$(( $(ulimit -Hn) / 2 )):$(( $(ulimit -Hn) / 2 ))" --ulimit nproc=4096:4096)
  "${pod[@]}" run "${limits[@]}" "${probe[@]:1}" || { cat "$work/why" >&2; exit 1; }
fi
"${pod[@]}" run "${limits[@]}" -d --name "$name" --read-only -p "127.0.0.1:$port:8080" -v "$name-data:/app/data" \
  -v "$work/chain.key:/run/secrets/chain.key:ro" -v "$work/keys/container-check.jwks.json:/run/secrets/ehr.jwks.json:ro" \
  -e CdsMitral__PublicBaseUrl="http://127.0.0.1:$port" -e CdsMitral__Audit__ChainKeyFile=/run/secrets/chain.key \
  -e CdsMitral__Trust__Clients__0__Issuer=https://container-check.example \
  -e CdsMitral__Trust__Clients__0__JwksFile=/run/secrets/ehr.jwks.json "$image" >/dev/null
ready=""
for _ in $(seq 120); do
  if curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null; then ready=yes; break; fi
  sleep 0.5
done
[ -n "$ready" ] || { "${pod[@]}" logs "$name" | tail -20; echo "FAILED: /health/ready did not answer" >&2; exit 1; }
echo "/health/ready: $(curl -s "http://127.0.0.1:$port/health/ready")"
echo "runs as: $("${pod[@]}" exec "$name" /bin/sh -c 'id')"

step "one hook signed by the trusted EHR: its card; unsigned: 401"
cli hook "http://127.0.0.1:$port" --service secondary-mr-patient-view --patient coapt-profile --prefetch \
  --sign-with "$work/keys/container-check.private.jwk.json" --issuer https://container-check.example --json > "$work/answer.json"
python3 -c 'import json,sys; cards=json.load(open(sys.argv[1]))["cards"]; print("cards:", [c["source"]["topic"]["code"] for c in cards]); sys.exit(0 if cards else 1)' "$work/answer.json" \
  || { echo "FAILED: no card from the signed hook" >&2; exit 1; }
status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
  --data @samples/requests/coapt-profile.patient-view.prefetch.json "http://127.0.0.1:$port/cds-services/secondary-mr-patient-view")
echo "unsigned POST: $status"
[ "$status" = 401 ] || { echo "FAILED: expected 401 for an unsigned call" >&2; exit 1; }

step "health check"
# The image's HEALTHCHECK, run once by hand (podman schedules it with systemd timers, which a sandbox may not have).
"${pod[@]}" healthcheck run "$name" && echo "HEALTHCHECK ($(podman image inspect "$image" --format '{{.Config.Healthcheck.Test}}')): healthy"
if "${pod[@]}" exec "$name" /bin/sh -c 'touch /app/x' 2>/dev/null; then echo "FAILED: the root filesystem is writable" >&2; exit 1; fi
echo "root filesystem read-only; the data volume holds: $("${pod[@]}" exec "$name" /bin/sh -c 'ls /app/data' | tr '\n' ' ')"
echo
echo "OK: $image builds from Debian packages, runs read-only as uid 1654 and answers"
