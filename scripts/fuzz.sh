#!/usr/bin/env bash
# Runs every fuzz target of the project, each for a bounded time:
#   scripts/fuzz.sh [seconds-per-target]      (default 60; CI runs 20; a long run: 3600)
# Targets: the graph service's Cypher parser and executor (through scripts/fuzz-graph.sh, which
# seeds the corpus from the openCypher TCK); the router's classifier and hint handling
# (route_decide), whole Route requests as decoded from protobuf (route_request) and rules files
# (rules_file, seeded with the built-in rules); the relational service's ListOrders validation
# (list_orders_request), page tokens (page_token) and write/aggregate/export requests
# (write_requests).
# Installs cargo-fuzz when missing. Exits non-zero on the first crash; the input is saved under
# the target's fuzz/artifacts/ folder and should become a regression test.
set -euo pipefail
SECONDS_PER_TARGET="${1:-60}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The fuzz crates are separate workspaces with the same locked dependency versions: one target
# directory for all of them builds those dependencies once instead of once per crate.
export CARGO_TARGET_DIR="${CHATMESH_FUZZ_TARGET_DIR:-$ROOT/target/fuzz}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install --locked cargo-fuzz
fi

for target in cypher_parser cypher_execute; do
    echo "fuzz: graph/$target for ${SECONDS_PER_TARGET}s" >&2
    bash "$ROOT/scripts/fuzz-graph.sh" "$SECONDS_PER_TARGET" "$target"
done

# run_target SERVICE TARGET: one cargo-fuzz target of services/SERVICE/fuzz, corpus kept there.
run_target() {
    echo "fuzz: $1/$2 for ${SECONDS_PER_TARGET}s" >&2
    (
        cd "$ROOT/services/$1/fuzz"
        mkdir -p "corpus/$2"
        RUSTC_BOOTSTRAP=1 cargo fuzz run "$2" "corpus/$2" -- \
            -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -max_len=4096 -rss_limit_mb=2048
    )
}

# The rules files a user would write start from the built-in one.
RULES_CORPUS="$ROOT/services/router/fuzz/corpus/rules_file"
mkdir -p "$RULES_CORPUS"
cp "$ROOT/services/router/rules/default.toml" "$RULES_CORPUS/default.toml"

for target in route_decide route_request rules_file; do
    run_target router "$target"
done
for target in list_orders_request page_token write_requests; do
    run_target relational "$target"
done
