#!/usr/bin/env bash
# Puts a `temporal` CLI (which embeds the real Temporal dev server) at .data/bin/temporal.
#
# 1. A `temporal` already on PATH is used as is.
# 2. Otherwise the pinned version is built from source with `go install` into the user's cache
#    directory, so every clone of the project on this machine shares one build.
#    v1.5.1 is the newest tag whose go.mod has no replace directives (`go install` refuses later ones).
# Safe to run again: a binary that is already there is kept.
set -euo pipefail

TEMPORAL_CLI_VERSION="v1.5.1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
link="$root/.data/bin/temporal"
cache_bin="${XDG_CACHE_HOME:-$HOME/.cache}/hotel-messaging/temporal-cli-$TEMPORAL_CLI_VERSION"

mkdir -p "$root/.data/bin"

if [ -x "$link" ] && "$link" --version >/dev/null 2>&1; then
  exit 0
fi

if on_path="$(command -v temporal 2>/dev/null)"; then
  echo "temporal: using $on_path ($("$on_path" --version))"
  ln -sf "$on_path" "$link"
  exit 0
fi

if [ ! -x "$cache_bin/temporal" ]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "temporal: no 'temporal' on PATH and no Go toolchain to build it; install Go 1.23+ or the Temporal CLI" >&2
    exit 1
  fi
  echo "temporal: building github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION from source (a few minutes, once)"
  mkdir -p "$cache_bin"
  GOBIN="$cache_bin" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
fi

ln -sf "$cache_bin/temporal" "$link"
echo "temporal: $("$link" --version)"
