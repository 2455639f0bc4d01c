#!/usr/bin/env bash
# `npm run build`: what the image runs, as plain JavaScript in dist/ (the Dockerfile's build stage runs this):
#   1. tsc to JavaScript (tsconfig.build.json: the entry points and what they import; no tests, no dev tools);
#   2. the SQL migrations next to the compiled migrator (lib/db/migrate.ts reads them from its own folder);
#   3. the workflow bundle, prebuilt once (dist/workflow-bundle.js; the worker loads it through WORKFLOW_BUNDLE_PATH).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rm -rf dist
npx tsc -p tsconfig.build.json
mkdir -p dist/lib/db/migrations
cp lib/db/migrations/*.sql dist/lib/db/migrations/
node dist/scripts/build-workflow-bundle.js dist/workflow-bundle.js
