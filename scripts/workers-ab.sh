#!/usr/bin/env bash
# The five release processes with the default number of Tokio workers against the same five with
# `--worker-threads N` (via CHATMESH_WORKER_THREADS), started in turn and alternated round by
# round so that a shared machine's noise hits both alike; the chat mix at c=16, 64 and 1 with the
# lean load generator (which keeps its own default).
#
#   scripts/workers-ab.sh [N=1] [SECS=5] [ROUNDS=2]
#
# Needs what ../shared/peers/side-by-side.sh builds (run it once first). Ports 2247x/2248x.
set -euo pipefail
N=${1:-1}; SECS=${2:-5}; ROUNDS=${3:-2}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
B=${BIN:-$ROOT/target/release}
R=$ROOT/target/peers/run
LG=$ROOT/target/peers/cargo/release/loadgen
WL=$ROOT/../shared/bench/workload.json
[ -x "$B/chatmesh-chatbot" ] || { echo "build first: cargo build --release --workspace" >&2; exit 2; }
[ -x "$LG" ] && [ -f "$R/chat.hex" ] || {
    echo "run ../shared/peers/side-by-side.sh once first (it builds loadgen and the bodies)" >&2; exit 2; }

# One sitting of one build: start the mesh (workers from $2, empty for the default), drive the
# chat mix, stop it (release-mesh.sh's EXIT trap, at the end of the subshell).
sitting() (
    local label=$1
    P_BASE=$3
    if [ -n "$2" ]; then export CHATMESH_WORKER_THREADS=$2; fi
    # shellcheck source=scripts/release-mesh.sh
    source "$ROOT/scripts/release-mesh.sh"
    for c in 16 64 1; do
        printf '%-12s c=%-3s %s\n' "$label" "$c" "$(env -u CHATMESH_WORKER_THREADS "$LG" grpc \
            --url "http://127.0.0.1:$P_CHAT/chatmesh.chat.v1.ChatService/Chat" --bodies "$R/chat.hex" \
            --concurrency "$c" --duration "$SECS" --warmup 1 | tail -1)"
    done
)
echo "# workers A/B, ${SECS}s cells, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
for round in $(seq "$ROUNDS"); do
    echo "## round $round"
    sitting default "" 22470
    sitting "workers=$N" "$N" 22480
done
