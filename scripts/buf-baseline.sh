#!/usr/bin/env bash
# Regenerates proto/baseline/v1.binpb, the buf image that scripts/buf-check.sh
# compares the v1 contracts against to reject wire-breaking changes.
#
# Run this ONLY when deliberately accepting a new v1 surface (for example after
# adding fields, messages or RPCs that should from now on be protected), and
# commit the new image together with the .proto change. Never run it to make a
# failing breaking check pass: a breaking change to a v1 package needs a new
# package version (v2) instead.
#
# Runnable from any directory. The buf binary is $BUF, else
# .tools/buf/node_modules/.bin/buf.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUF="${BUF:-$ROOT/.tools/buf/node_modules/.bin/buf}"
# A relative $BUF path is taken relative to the caller's directory.
if [[ "$BUF" == */* && "$BUF" != /* ]]; then BUF="$PWD/$BUF"; fi
cd "$ROOT"
mkdir -p proto/baseline
"$BUF" build -o proto/baseline/v1.binpb
echo "buf-baseline: wrote proto/baseline/v1.binpb"
