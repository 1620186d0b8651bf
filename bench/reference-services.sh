#!/usr/bin/env bash
# Prepares the CDS Hooks reference services (github.com/cds-hooks/sandbox-cds-services, Node/Express) for
# bench/audit-cost.sh: DIR is a checkout of that repository; this installs its production packages as its lock file
# pins them. The lock names the npm placeholder package fs@0.0.1-security, which the registry reachable here does not
# serve; nothing requires it (Node's own fs is what the code loads), so an npm `overrides` entry maps it to an empty
# local package. The checkout's package.json gains that entry; nothing else changes.
# Usage: bench/reference-services.sh DIR
set -euo pipefail
dir=${1:?usage: bench/reference-services.sh DIR (a checkout of cds-hooks/sandbox-cds-services)}
[ -f "$dir/server.js" ] && [ -f "$dir/package-lock.json" ] || { echo "$dir is not a checkout of sandbox-cds-services" >&2; exit 1; }
mkdir -p "$dir/empty-fs"
echo '{ "name": "fs", "version": "0.0.1-security" }' > "$dir/empty-fs/package.json"
node -e '
  const fs = require("fs"); const file = process.argv[1] + "/package.json";
  const p = JSON.parse(fs.readFileSync(file, "utf8")); p.overrides = { fs: "file:./empty-fs" };
  fs.writeFileSync(file, JSON.stringify(p, null, 2) + "\n");' "$dir"
npm install --prefix "$dir" --omit=dev --no-save --no-audit --no-fund >/dev/null
echo "ready: (cd $dir && PORT=3000 node server.js), POST /cds-services/patient-greeting"
