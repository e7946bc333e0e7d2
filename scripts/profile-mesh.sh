#!/usr/bin/env bash
# Where the chat path spends its CPU: the five release processes as ../shared/peers/side-by-side.sh
# runs them, one lean load generator driving a cell, and `perf record` (flat, sampled) of every
# process meanwhile; prints each process's share of the CPU and its hottest symbols.
#
#   scripts/profile-mesh.sh [CELL=chat] [CONCURRENCY=16] [SECS=10] [TOP=15]
#
# CELL is one of chat, neighbors, search, order, health: the request bodies side-by-side.sh wrote
# into target/peers/run/ (run it once first; it builds the load generator too). Needs perf
# (Debian: linux-perf) and a release build (cargo build --release --workspace). Ports 2216x, so
# it can run while nothing else of chatmesh does; loopback only.
set -euo pipefail
CELL=${1:-chat}; C=${2:-16}; SECS=${3:-10}; TOP=${4:-15}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
B=$ROOT/target/release
PEERS_RUN=$ROOT/target/peers/run
LG=$ROOT/target/peers/cargo/release/loadgen
WL=$ROOT/../shared/bench/workload.json
[ -x "$B/chatmesh-chatbot" ] || { echo "build first: cargo build --release --workspace" >&2; exit 2; }
[ -x "$LG" ] && [ -f "$PEERS_RUN/$CELL.hex" ] || {
    echo "run ../shared/peers/side-by-side.sh once first (it writes the request bodies)" >&2; exit 2; }
command -v perf >/dev/null || { echo "perf is missing (apt-get install linux-perf)" >&2; exit 2; }

P_BASE=22160
# shellcheck source=scripts/release-mesh.sh
source "$ROOT/scripts/release-mesh.sh"

case "$CELL" in
chat) URL=$P_CHAT/chatmesh.chat.v1.ChatService/Chat ;;
neighbors) URL=$P_GRAPH/chatmesh.graph.v1.GraphService/ListNeighbors ;;
search) URL=$P_VECTOR/chatmesh.vector.v1.VectorService/Search ;;
order) URL=$P_REL/chatmesh.relational.v1.RelationalService/GetOrder ;;
health) URL=$P_GRAPH/grpc.health.v1.Health/Check ;;
*) echo "unknown cell $CELL" >&2; exit 2 ;;
esac
NAMES=(graph vector relational router chatbot)
"$LG" grpc --url "http://127.0.0.1:$URL" --bodies "$PEERS_RUN/$CELL.hex" --concurrency "$C" \
    --duration $((SECS + 2)) --warmup 1 >"$W/load.json" &
LOAD=$!
sleep 1.5
# One recording per process (all its threads, kernel time included), at the same time.
REC=()
for i in "${!NAMES[@]}"; do
    perf record -F 499 -p "${PIDS[$i]}" -o "$W/${NAMES[$i]}.data" -- sleep "$SECS" >/dev/null 2>&1 &
    REC+=($!)
done
perf record -F 499 -p "$LOAD" -o "$W/loadgen.data" -- sleep "$SECS" >/dev/null 2>&1 &
REC+=($!)
wait "${REC[@]}"
wait "$LOAD"
samples() { perf script -i "$1" -F comm 2>/dev/null | wc -l; }
echo "# profile of cell $CELL at c=$C, ${SECS}s, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "load: $(tail -1 "$W/load.json")"
echo "## samples per process at 499 Hz over ${SECS}s (one core busy for the whole window: $((499 * SECS)))"
for name in "${NAMES[@]}" loadgen; do printf '%-12s %s\n' "$name" "$(samples "$W/$name.data")"; done
for name in "${NAMES[@]}"; do
    echo "## chatmesh-$name: top $TOP symbols (share of the process's samples)"
    { perf report -i "$W/$name.data" --no-children --sort dso,sym --stdio 2>/dev/null || true; } \
        | grep -E '^ +[0-9]' | head -"$TOP" | cut -c1-150 || true
done
