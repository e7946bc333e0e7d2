#!/usr/bin/env bash
# Fuzzes the graph service's Cypher parser with cargo-fuzz (libFuzzer) for a bounded time.
#   scripts/fuzz-graph.sh [seconds] [target]
# seconds defaults to 60; target defaults to cypher_parser (the other: cypher_execute, which
# also runs what parses on a small graph). Installs cargo-fuzz when it is missing. The corpus
# lives in services/graph/fuzz/corpus/<target> (not committed); crashes land in
# services/graph/fuzz/artifacts/<target>, and the script then exits non-zero.
# cargo-fuzz needs nightly flags: RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them.
# A long run (the documented one): scripts/fuzz-graph.sh 3600
set -euo pipefail

SECONDS_TO_RUN="${1:-60}"
TARGET="${2:-cypher_parser}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZ_DIR="$ROOT/services/graph/fuzz"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz-graph: installing cargo-fuzz" >&2
  cargo install --locked cargo-fuzz
fi

# The fuzz crates are separate workspaces with the same locked dependency versions: one target
# directory for all of them builds those dependencies once instead of once per crate.
export CARGO_TARGET_DIR="${CHATMESH_FUZZ_TARGET_DIR:-$ROOT/target/fuzz}"

cd "$FUZZ_DIR"
mkdir -p "corpus/$TARGET"
# Seeds: the queries of the openCypher TCK, when it is beside the repository.
TCK="$ROOT/../shared/opencypher-tck/features"
if [[ -d "$TCK" && -z "$(ls -A "corpus/$TARGET")" ]]; then
  n=0
  while IFS= read -r -d '' feature; do
    awk '/"""/{inside=!inside; if(!inside){print "\x1e"}; next} inside{print}' "$feature" |
      awk -v dir="corpus/$TARGET" -v base="$n" 'BEGIN{RS="\x1e\n"} NF{f=sprintf("%s/tck-%d-%d", dir, base, NR); printf "%s", $0 > f; close(f)}'
    n=$((n + 1))
  done < <(find "$TCK/clauses" "$TCK/expressions" -name '*.feature' -print0)
fi

export RUSTC_BOOTSTRAP=1
cargo fuzz run "$TARGET" "corpus/$TARGET" -- \
  -max_total_time="$SECONDS_TO_RUN" -timeout=10 -max_len=4096 -rss_limit_mb=2048
