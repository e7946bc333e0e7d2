#!/usr/bin/env bash
# Where the five processes' memory is: VmRSS, RssAnon (heap, stacks) and RssFile (the binary's
# touched code and read-only pages, mapped files such as the static model) of each, from
# /proc/<pid>/status, and Pss (shared pages split among the processes that map them) from
# /proc/<pid>/smaps_rollup, first idle with ../shared/bench/workload.json loaded, then during a chat
# mix at c=64 driven by the lean load generator.
#
#   scripts/mesh-memory.sh [SECS=5]
#
# BIN=dir measures other release binaries. Needs the request bodies and the load generator that
# ../shared/peers/side-by-side.sh builds (run it once first). Ports 2227x, loopback only.
set -euo pipefail
SECS=${1:-5}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
B=${BIN:-$ROOT/target/release}
R=$ROOT/target/peers/run
LG=$ROOT/target/peers/cargo/release/loadgen
WL=$ROOT/../shared/bench/workload.json
[ -x "$B/chatmesh-chatbot" ] || { echo "build first: cargo build --release --workspace" >&2; exit 2; }
[ -x "$LG" ] && [ -f "$R/chat.hex" ] || {
    echo "run ../shared/peers/side-by-side.sh once first (it builds loadgen and the bodies)" >&2; exit 2; }

P_BASE=22270
# shellcheck source=scripts/release-mesh.sh
source "$ROOT/scripts/release-mesh.sh"
NAMES=(graph vector relational router chatbot)

show() {
    local total=0 pss=0 kib
    echo "## $1 ($(date -u +%FT%TZ))"
    for i in "${!PIDS[@]}"; do
        printf '%-10s %s\n' "${NAMES[$i]}" \
            "$(awk '/^(VmRSS|RssAnon|RssFile):/ {printf "%s %.1f MiB  ", $1, $2 / 1024}' "/proc/${PIDS[$i]}/status")$(
              awk '/^Pss:/ {printf "Pss: %.1f MiB", $2 / 1024}' "/proc/${PIDS[$i]}/smaps_rollup")"
        kib=$(awk '/^VmRSS:/ {print $2}' "/proc/${PIDS[$i]}/status")
        total=$((total + kib))
        kib=$(awk '/^Pss:/ {print $2}' "/proc/${PIDS[$i]}/smaps_rollup")
        pss=$((pss + kib))
    done
    echo "the five: $((total / 1024)) MiB resident, $((pss / 1024)) MiB proportional (shared pages split)"
}
show "idle, workload loaded"
"$LG" grpc --url "http://127.0.0.1:$P_CHAT/chatmesh.chat.v1.ChatService/Chat" --bodies "$R/chat.hex" \
    --concurrency 64 --duration "$SECS" --warmup 1 >"$W/load.json" &
load=$!
sleep "$SECS"
show "during the chat mix at c=64"
wait "$load"
tail -1 "$W/load.json"
