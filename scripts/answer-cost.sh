#!/usr/bin/env bash
# What a ListNeighbors answer costs, against the bare tonic server of ../shared/peers: CPU time
# per call of the server and of the lean load generator (`perf stat -e task-clock` on each,
# 3 s windows inside 5 s cells at c=16), for five cells: the bare server with its empty answer,
# the bare server echoing a 534-byte message (the mean ListNeighbors answer of the side-by-side
# bodies), graph Health/Check, the side-by-side ListNeighbors bodies with a relationship type no
# relationship has (the request's whole work, an empty answer), and the ListNeighbors cell
# itself. The cells are CPU-bound on two cores, so calls/s ≈ 2 s ÷ (server + generator).
#
#   scripts/answer-cost.sh [ROUNDS=3]
#
# BIN=dir measures other release binaries. Needs what ../shared/peers/side-by-side.sh builds and
# writes (run it once first) and perf (Debian: linux-perf). Ports 2228x, loopback only.
set -euo pipefail
ROUNDS=${1:-3}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
B=${BIN:-$ROOT/target/release}
R=$ROOT/target/peers/run
LG=$ROOT/target/peers/cargo/release/loadgen
CH=$ROOT/target/peers/cargo/release/tonic-chain
PY=$ROOT/target/peers/venv/bin/python
WL=$ROOT/../shared/bench/workload.json
[ -x "$B/chatmesh-graph" ] || { echo "build first: cargo build --release --workspace" >&2; exit 2; }
[ -x "$LG" ] && [ -x "$CH" ] && [ -x "$PY" ] && [ -f "$R/neighbors.hex" ] || {
    echo "run ../shared/peers/side-by-side.sh once first (it writes the request bodies)" >&2; exit 2; }
command -v perf >/dev/null || { echo "perf is missing (apt-get install linux-perf)" >&2; exit 2; }

W=$(mktemp -d); PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
P_BARE=22281 P_GRAPH=22283
"$CH" --listen 127.0.0.1:$P_BARE >"$W/bare.log" 2>&1 & PIDS+=($!); BARE=$!
"$B/chatmesh-graph" --listen 127.0.0.1:$P_GRAPH --data-dir "$W/graph" --log warn >"$W/graph.log" 2>&1 &
PIDS+=($!); GRAPH=$!
for _ in $(seq 100); do "$B/chatmesh" health --addr 127.0.0.1:$P_GRAPH -q && break; sleep 0.1; done
"$B/chatmesh" bench load-graph --addr 127.0.0.1:$P_GRAPH --workload "$WL" >/dev/null

# The two extra bodies: the ListNeighbors requests with a type nothing has, a 534-byte echo.
PYTHONPATH=$R "$PY" - "$W" "$R" <<'EOF'
import sys
from chatmesh.graph.v1 import graph_pb2
w, r = sys.argv[1], sys.argv[2]
with open(f"{w}/empty.hex", "w") as f:
    for line in open(f"{r}/neighbors.hex"):
        req = graph_pb2.ListNeighborsRequest.FromString(bytes.fromhex(line.strip()))
        del req.relationship_types[:]
        req.relationship_types.append("NO_SUCH_TYPE")
        f.write(req.SerializeToString().hex() + "\n")
message = b"x" * 534  # chain.v1.HopRequest { message = 1 }: tag, two-byte length, bytes
with open(f"{w}/echo.hex", "w") as f:
    f.write((bytes([0x0A, 0x80 | (len(message) & 0x7F), len(message) >> 7]) + message).hex() + "\n")
EOF

cell() { # name server-pid url bodies
    "$LG" grpc --url "http://127.0.0.1:$3" --bodies "$4" --concurrency 16 --duration 5 --warmup 1 \
        >"$W/load.json" &
    local load=$!
    sleep 1.2
    perf stat -e task-clock -p "$2" -o "$W/server.txt" -- sleep 3 2>/dev/null &
    local stat=$!
    perf stat -e task-clock -p "$load" -o "$W/loadgen.txt" -- sleep 3 2>/dev/null
    wait "$stat" "$load"
    local rps
    rps=$(sed -n 's/.*"rps":\([0-9.]*\).*/\1/p' "$W/load.json")
    per_call() { awk -v n="$rps" '/task-clock/ {gsub(",", "", $1); printf "%.1f", 1000 * $1 / (n * 3)}' "$1"; }
    printf '%-28s calls/s %8s  server µs/call %5s  load generator µs/call %5s\n' \
        "$1" "$rps" "$(per_call "$W/server.txt")" "$(per_call "$W/loadgen.txt")"
}
echo "# answer-cost, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
for r in $(seq "$ROUNDS"); do
    echo "## round $r"
    cell "bare, empty answer" $BARE $P_BARE/chain.v1.HopService/Hop "$R/hop.hex"
    cell "bare, 534-byte echo" $BARE $P_BARE/chain.v1.HopService/Hop "$W/echo.hex"
    cell "graph Health/Check" $GRAPH $P_GRAPH/grpc.health.v1.Health/Check "$R/health.hex"
    cell "ListNeighbors, empty answer" $GRAPH $P_GRAPH/chatmesh.graph.v1.GraphService/ListNeighbors "$W/empty.hex"
    cell "ListNeighbors depth 2" $GRAPH $P_GRAPH/chatmesh.graph.v1.GraphService/ListNeighbors "$R/neighbors.hex"
done
