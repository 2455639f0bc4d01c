#!/usr/bin/env bash
# Starts the whole system on embedded defaults: Temporal dev server (Web UI on 8233), Postgres, Redis,
# the WhatsApp Graph API stand-in, the API and the worker. Ctrl-C stops everything.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/ensure-deps.sh"
cd "$root"
exec node --import tsx dev/start.ts "$@"
