#!/usr/bin/env bash
# A profile-guided release build of the five services and the CLI, in three steps:
#   1. build them instrumented (`-Cprofile-generate`) into target/pgo-gen;
#   2. train: start the five on loopback with embedded engines, load ../shared/bench/workload.json
#      and drive them with the project's own `chatmesh bench` scenarios (the chat mix at 1, 16
#      and 64 calls in flight, each backend's main calls, health), then stop them with SIGTERM so
#      that each writes its profile;
#   3. merge the profiles and build again with `-Cprofile-use` into target/pgo.
#
#   scripts/pgo-build.sh [TRAIN_SECS=4]
#
# WORKLOAD=path names another workload file (default ../shared/bench/workload.json, as for
# `chatmesh bench`). Build scripts and proc macros are instrumented too (cargo gives them the
# target's flags when not cross-compiling); their profiles are merged with the rest, harmlessly.
#
# The binaries land in target/pgo/release; nothing else in target/ changes. The flags are
# appended to .cargo/config.toml's (through `--config`), so the release profile and the linker
# flags stay what `cargo build --release` uses. Needs llvm-profdata from the Rust toolchain
# (`rustup component add llvm-tools`, which the coverage recipe installs too). Why and what it
# buys: docs/benchmarks.md ("Profile-guided builds"). Ports 2237x, loopback only.
set -euo pipefail
SECS=${1:-4}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PROFDATA=$(find "$(rustc --print sysroot)/lib/rustlib" -name llvm-profdata -type f | head -1)
[ -x "$PROFDATA" ] || { echo "needs llvm-profdata: rustup component add llvm-tools" >&2; exit 2; }
# RUSTFLAGS in the environment would replace the config's flags, the profile flag included:
# the build would then be a plain one under the script's name.
[ -z "${RUSTFLAGS:-}${CARGO_ENCODED_RUSTFLAGS:-}" ] || {
    echo "unset RUSTFLAGS / CARGO_ENCODED_RUSTFLAGS: they would drop the profile flag" >&2; exit 2; }
HOST=$(rustc -vV | sed -n 's/^host: //p')
DATA=$ROOT/target/pgo-data
PACKAGES=(-p chatmesh-graph -p chatmesh-vector -p chatmesh-relational -p chatmesh-router
    -p chatmesh-chatbot -p chatmesh)
build() { # build TARGET_DIR RUSTC_FLAG
    cargo --config "target.$HOST.rustflags=[\"$2\"]" build --release --bins \
        --target-dir "$1" "${PACKAGES[@]}"
}

echo "--- 1. instrumented build (target/pgo-gen)"
rm -rf "$DATA" && mkdir -p "$DATA"
build "$ROOT/target/pgo-gen" "-Cprofile-generate=$DATA"

echo "--- 2. training, ${SECS}s per scenario"
(
    B=$ROOT/target/pgo-gen/release WL=${WORKLOAD:-$ROOT/../shared/bench/workload.json} P_BASE=22370
    # shellcheck source=scripts/release-mesh.sh
    source "$ROOT/scripts/release-mesh.sh"
    bench() { "$B/chatmesh" bench --warmup 1s --duration "${SECS}s" --workload "$WL" "$@" | tail -1; }
    for c in 1 16 64; do bench --addr 127.0.0.1:$P_CHAT --scenario chat-mix --concurrency $c; done
    bench --addr 127.0.0.1:$P_GRAPH --scenario graph-neighbors
    bench --addr 127.0.0.1:$P_GRAPH --scenario graph-query
    bench --addr 127.0.0.1:$P_VECTOR --scenario vector-near-text
    bench --addr 127.0.0.1:$P_REL --scenario relational-get
    bench --addr 127.0.0.1:$P_REL --scenario grpc-health
)   # the EXIT trap of release-mesh.sh stops the five with SIGTERM and waits for them
ls "$DATA"/*.profraw >/dev/null
"$PROFDATA" merge -o "$DATA/merged.profdata" "$DATA"/*.profraw
# Named by its content: cargo does not read the profile when it decides what is fresh, but it does
# compare the flags, so a new profile rebuilds everything and an old build is never reused.
PROFILE=$DATA/merged-$(sha256sum "$DATA/merged.profdata" | cut -c1-16).profdata
mv "$DATA/merged.profdata" "$PROFILE"
echo "profiles: $(ls "$DATA"/*.profraw | wc -l) files, merged into $PROFILE ($(du -h "$PROFILE" | cut -f1))"

echo "--- 3. optimised build (target/pgo)"
build "$ROOT/target/pgo" "-Cprofile-use=$PROFILE"
ls -l target/pgo/release/chatmesh-{graph,vector,relational,router,chatbot} target/pgo/release/chatmesh
