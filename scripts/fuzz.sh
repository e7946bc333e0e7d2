#!/usr/bin/env bash
# Runs every fuzz target of the project, each for a bounded time:
#   scripts/fuzz.sh [seconds-per-target]      (default 60; CI runs 20; a long run: 3600)
# Targets: the graph service's Cypher parser and executor (through scripts/fuzz-graph.sh, which
# seeds the corpus from the openCypher TCK) and the router's classifier and hint handling.
# Installs cargo-fuzz when missing. Exits non-zero on the first crash; the input is saved under
# the target's fuzz/artifacts/ folder and should become a regression test.
set -euo pipefail
SECONDS_PER_TARGET="${1:-60}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install --locked cargo-fuzz
fi

for target in cypher_parser cypher_execute; do
    echo "fuzz: graph/$target for ${SECONDS_PER_TARGET}s" >&2
    bash "$ROOT/scripts/fuzz-graph.sh" "$SECONDS_PER_TARGET" "$target"
done

echo "fuzz: router/route_decide for ${SECONDS_PER_TARGET}s" >&2
cd "$ROOT/services/router/fuzz"
mkdir -p corpus/route_decide
RUSTC_BOOTSTRAP=1 cargo fuzz run route_decide corpus/route_decide -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -max_len=4096 -rss_limit_mb=2048
