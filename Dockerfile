# CdsMitral service image: self-contained, non-root (uid 1654), read-only root filesystem with a data volume.
# With public images (anywhere Microsoft's registry is reachable):
#   docker build -t cdsmitral .
# Where only Debian's packages can be reached (the project's build machines): bash container/build.sh, which makes a
# base from Debian packages (mmdebstrap), publishes on the host and builds the "local" target below with podman.
# Run it (the chain key signs the audit trail: keep it, and a copy away from the database):
#   openssl rand -base64 32 > chain.key
#   docker run --read-only -p 8080:8080 -v cdsmitral-data:/app/data -v "$PWD/chain.key:/run/secrets/chain.key:ro" \
#     -e CdsMitral__PublicBaseUrl=https://cds.example.org -e CdsMitral__Audit__ChainKeyFile=/run/secrets/chain.key cdsmitral
# The image runs as Production: without PublicBaseUrl and a chain key it refuses to start, saying which is missing.
# Trusted clients, auditors and the audit store are configured with environment variables (docs/configuration.md).
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/runtime-deps:10.0

FROM ${SDK_IMAGE} AS build
WORKDIR /src
# Project files first, so that a code change does not invalidate the restore layer.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/CdsMitral/CdsMitral.csproj src/CdsMitral/
COPY src/CdsMitral.Service/CdsMitral.Service.csproj src/CdsMitral.Service/
RUN dotnet restore src/CdsMitral.Service/CdsMitral.Service.csproj -r linux-x64
COPY src/CdsMitral/ src/CdsMitral/
COPY src/CdsMitral.Service/ src/CdsMitral.Service/
# What the service embeds or ships from outside its folder (ContainerContextTests checks this list against the project).
COPY fhir-profiles/ fhir-profiles/
COPY cds-cards/ cds-cards/
COPY docs/presets/ docs/presets/
COPY samples/requests/coapt-profile.patient-view.prefetch.json samples/requests/
# Self-contained (no .NET in the base) and ReadyToRun (the first calls after start do not wait for the JIT).
RUN dotnet publish src/CdsMitral.Service/CdsMitral.Service.csproj -c Release -r linux-x64 --self-contained -o /out/app --no-restore \
    && mkdir /out/data

# What every variant shares: the settings, the user, the volume, the health check.
FROM ${RUNTIME_IMAGE} AS base
WORKDIR /app
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    DOTNET_RUNNING_IN_CONTAINER=true \
    HOME=/app/data \
    CdsMitral__Audit__ConnectionString=/app/data/audit.db \
    CdsMitral__Audit__SpoolPath=/app/data/audit-spool.ndjson \
    CdsMitral__Navigator__DataProtectionKeys=/app/data/data-protection-keys
USER 1654:1654
VOLUME /app/data
EXPOSE 8080
# The service probes itself (GET /health/ready): no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["/app/CdsMitral.Service", "probe"]
ENTRYPOINT ["/app/CdsMitral.Service"]

# container/build.sh: the app published on the host, in a build context of its own (publish/app, publish/data).
FROM base AS local
COPY publish/app/ /app/
COPY --chown=1654:1654 publish/data/ /app/data/

# The default: built in the SDK stage above.
FROM base AS runtime
COPY --from=build /out/app/ /app/
COPY --from=build --chown=1654:1654 /out/data/ /app/data/
