#!/usr/bin/env bash
# The workspace's tests, with every binary they start a release build (fat LTO) instead of the
# debug build `cargo test` uses: test-support's `process` helper (`Process`, `binary`, and `built`
# for the tests that name cargo's `CARGO_BIN_EXE_*`) takes them from `CHATMESH_BIN_DIR`.
# Timing, memory and cancellation differ in an optimised build, so the suites that attack
# running processes are worth running against what ships: the integration mesh (faults_*,
# e2e, mtls, tracing), graph query_limits, the router's dispatch, the relational suites, the
# chat-session suite, the `cli.rs` start-up tests, the crash tests, relational migrations and
# `bin/chatmesh`'s tests. Extra arguments go to `cargo test` (e.g. `-p chatmesh-graph`).
#
#   bash scripts/test-release-binaries.sh
#   bash scripts/test-release-binaries.sh -p chatmesh-integration-tests --test faults_inputs
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --workspace --bins
# An absolute path: each test runs in its own package's folder.
export CHATMESH_BIN_DIR
CHATMESH_BIN_DIR="$(cd "$target_dir/release" && pwd)"
echo "spawned services: $CHATMESH_BIN_DIR" >&2
if [ "$#" -eq 0 ]; then
    set -- --workspace
fi
cargo test "$@"
