#!/usr/bin/env bash
# Lint, typecheck and every test (unit, integration on real servers, replay) on this machine's Node; then the replay
# test and the built image's smoke test again on Node 22 LTS, the image's Node. Installs what it needs.
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

# The image runs Node 22 (Dockerfile, ARG NODE_VERSION; scripts/ensure-deps.sh installed it at .data/bin/node-lts).
# Everything here runs on it, jest and the npm, tsc and node the smoke test calls: it is first on PATH.
# Skipped when arguments pick some tests: `bash scripts/test.sh test/unit` runs only what it names.
lts_bin_dir="$(dirname "$(readlink -f .data/bin/node-lts)")"
rm -f .data/jest-results-lts.json
if [ "$#" -eq 0 ]; then
  echo "== tests on Node $("$lts_bin_dir/node" --version) (the image's): replay, and the built image's smoke test"
  PATH="$lts_bin_dir:$PATH" node node_modules/jest/bin/jest.js --ci --json --outputFile=.data/jest-results-lts.json \
    test/integration/replay.test.ts test/integration/production-build.test.ts || status=$?
fi

# Plain closing lines for CI: "tests: N passed, N failed", then the same on Node 22.
node -e '
  for (const [label, file] of [["tests", "./.data/jest-results.json"], [`tests on Node ${process.argv[1]}`, "./.data/jest-results-lts.json"]]) {
    try {
      const r = require(file);
      console.log(`${label}: ${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed`);
    } catch {
      if (label === "tests") console.log("tests: no results");
    }
  }
' "$("$lts_bin_dir/node" --version)" 2>/dev/null || true
exit "$status"
