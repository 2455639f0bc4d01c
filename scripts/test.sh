#!/usr/bin/env bash
# Lint, typecheck and every test (unit, integration on real servers, replay). Installs what it needs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/ensure-deps.sh"
cd "$root"
echo "== lint"
npm run --silent lint
echo "== typecheck"
npm run --silent typecheck
echo "== tests"
mkdir -p .data
status=0
npx jest --ci --json --outputFile=.data/jest-results.json "$@" || status=$?
# One plain closing line for CI: "tests: N passed, N failed".
node -e '
  const r = require("./.data/jest-results.json");
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed`);
' 2>/dev/null || true
exit "$status"
