#!/usr/bin/env bash
# Runs the project's fuzz targets (the one crate in fuzz/), each for a bounded time:
#   scripts/fuzz.sh [--dev] [seconds-per-target] [target ...]
# seconds default to 60 (CI runs 20; a long run: 3600); without targets, every one runs:
#   cypher_parser, cypher_execute   the graph service's Cypher parser, and running what parses
#                                   on a small graph (corpus seeded from the openCypher TCK)
#   route_decide, route_request,    the router's classifier and hints, whole Route requests as
#   rules_file                      decoded from protobuf, rules files (seeded with the built-in)
#   list_orders_request,            the relational service's ListOrders validation, page tokens,
#   page_token, write_requests      and write/aggregate/export requests
# Corpora live in fuzz/corpus/<target> (not committed). Exits non-zero on the first crash; the
# input is saved under fuzz/artifacts/<target>/ and should become a regression test.
# Installs cargo-fuzz when missing. cargo-fuzz needs nightly flags: RUSTC_BOOTSTRAP=1 lets the
# stable toolchain accept them.
# --dev builds the targets unoptimised (cargo-fuzz's dev profile; the same sanitizer, coverage
# instrumentation, debug assertions and overflow checks as its default release build): a cold
# build in 5 minutes instead of 12-14 on two cores, at fewer executions per second. CI's short
# run takes it; a long run should not.
set -euo pipefail
PROFILE=(--release)
if [ "${1:-}" = "--dev" ]; then
    PROFILE=(--dev)
    shift
fi
SECONDS_PER_TARGET="${1:-60}"
shift || true
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZ="$ROOT/fuzz"
ALL=(cypher_parser cypher_execute route_decide route_request rules_file list_orders_request
    page_token write_requests)
TARGETS=("$@")
[ "${#TARGETS[@]}" -gt 0 ] || TARGETS=("${ALL[@]}")

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install --locked cargo-fuzz
fi
export RUSTC_BOOTSTRAP=1
cd "$FUZZ"

# Seeds: the openCypher TCK's queries (when it is beside the repository) for the Cypher targets,
# the built-in rules for rules_file. Only into an empty corpus: a long run's findings are kept.
seed_tck() {
    local dir=$1 n=0 feature
    local tck="$ROOT/../shared/opencypher-tck/features"
    [[ -d "$tck" && -z "$(ls -A "$dir")" ]] || return 0
    while IFS= read -r -d '' feature; do
        awk '/"""/{inside=!inside; if(!inside){print "\x1e"}; next} inside{print}' "$feature" |
            awk -v dir="$dir" -v base="$n" 'BEGIN{RS="\x1e\n"} NF{f=sprintf("%s/tck-%d-%d", dir, base, NR); printf "%s", $0 > f; close(f)}'
        n=$((n + 1))
    done < <(find "$tck/clauses" "$tck/expressions" -name '*.feature' -print0)
}

# One build of every target first: its time is the build's, not the first target's.
cargo fuzz build "${PROFILE[@]}"

for target in "${TARGETS[@]}"; do
    corpus="corpus/$target"
    mkdir -p "$corpus"
    case "$target" in
    cypher_*) seed_tck "$corpus" ;;
    rules_file) cp "$ROOT/services/router/rules/default.toml" "$corpus/default.toml" ;;
    esac
    echo "fuzz: $target for ${SECONDS_PER_TARGET}s" >&2
    cargo fuzz run "${PROFILE[@]}" "$target" "$corpus" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -max_len=4096 -rss_limit_mb=2048
done
