# CdsMitral service image: build with the SDK, run on the ASP.NET runtime as the unprivileged 'app' user.
#   docker build -t cdsmitral .
#   openssl rand -base64 32 > chain.key   # the audit chain's HMAC key: keep it, and a copy away from the database
#   docker run -p 8080:8080 -v cdsmitral-data:/app/data -v "$PWD/chain.key:/run/secrets/chain.key:ro" \
#     -e CdsMitral__PublicBaseUrl=https://cds.example.org -e CdsMitral__Audit__ChainKeyFile=/run/secrets/chain.key cdsmitral
# The image runs as Production: without PublicBaseUrl and a chain key it refuses to start, saying which is missing.
# Trusted clients, auditors and the audit store are configured with environment variables (docs/configuration.md).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Project files first, so that a code change does not invalidate the restore layer.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/CdsMitral/CdsMitral.csproj src/CdsMitral/
COPY src/CdsMitral.Service/CdsMitral.Service.csproj src/CdsMitral.Service/
# For linux-x64: the publish is then ReadyToRun (precompiled), so the first calls after start do not wait for the JIT.
RUN dotnet restore src/CdsMitral.Service/CdsMitral.Service.csproj -r linux-x64
COPY src/CdsMitral/ src/CdsMitral/
COPY src/CdsMitral.Service/ src/CdsMitral.Service/
COPY fhir-profiles/ fhir-profiles/
COPY cds-cards/ cds-cards/
COPY docs/presets/ docs/presets/
RUN dotnet publish src/CdsMitral.Service/CdsMitral.Service.csproj -c Release -r linux-x64 --self-contained false -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# The audit store and its spool live in a volume owned by the non-root user the image provides.
RUN mkdir -p /app/data && chown app:app /app/data
USER app
ENV ASPNETCORE_URLS=http://+:8080 \
    CdsMitral__Audit__ConnectionString=/app/data/audit.db \
    CdsMitral__Audit__SpoolPath=/app/data/audit-spool.ndjson
VOLUME /app/data
EXPOSE 8080
ENTRYPOINT ["dotnet", "CdsMitral.Service.dll"]
