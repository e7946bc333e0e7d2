#!/usr/bin/env bash
# The workspace's tests, with every service process they spawn a release build (fat LTO) instead
# of the debug build `cargo test` uses. Timing, memory and cancellation behave differently in
# an optimised build, so the suites that attack running processes (faults_*, query_limits,
# crash, dispatch's breaker, the relational id space, callers over mTLS) are worth running
# against what ships. Extra arguments go to `cargo test` (e.g. `-p chatmesh-graph`).
#
#   bash scripts/test-release-binaries.sh
#   bash scripts/test-release-binaries.sh -p chatmesh-integration-tests --test faults_inputs
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_RELEASE_TARGET_DIR:-${CARGO_TARGET_DIR:-$PWD/target}}"
CARGO_TARGET_DIR="$target_dir" cargo build --release --workspace --bins
# An absolute path: each test runs in its own package's folder.
export CHATMESH_BIN_DIR
CHATMESH_BIN_DIR="$(cd "$target_dir/release" && pwd)"
echo "spawned services: $CHATMESH_BIN_DIR" >&2
if [ "$#" -eq 0 ]; then
    set -- --workspace
fi
cargo test "$@"
