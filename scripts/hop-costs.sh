#!/usr/bin/env bash
# What each hop of the chat path costs: the five release processes as ../shared/peers/side-by-side.sh
# runs them, then the lean load generator against each hop on its own (a backend call, the
# router's Route, the chatbot's Chat, with the side-by-side bodies) and, per cell, every process's
# CPU time and context switches per call (from /proc), the load generator's included. A cell that
# calls one process shows what that hop costs by itself; the Route and Chat cells show what the
# hops above add. A last cell drives the side-by-side script's bare three-hop tonic chain the same
# way, so each of its hops can be set beside the chat path's.
#
#   scripts/hop-costs.sh [CONCURRENCY=16] [SECS=4] [ROUNDS=1]
#
# BIN=dir runs other release binaries (an A/B of two builds in one sitting). Needs the request
# bodies side-by-side.sh writes into target/peers/run/ (run it once first) and its Python venv.
# Ports 2217x, loopback only.
set -euo pipefail
C=${1:-16}; SECS=${2:-4}; ROUNDS=${3:-1}
[ "$SECS" -ge 2 ] || { echo "SECS must be 2 or more (one warm-up second, then the count)" >&2; exit 2; }
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
B=${BIN:-$ROOT/target/release}
R=$ROOT/target/peers/run
LG=$ROOT/target/peers/cargo/release/loadgen
CH=$ROOT/target/peers/cargo/release/tonic-chain
PY=$ROOT/target/peers/venv/bin/python
WL=$ROOT/../shared/bench/workload.json
[ -x "$B/chatmesh-chatbot" ] || { echo "build first: cargo build --release --workspace" >&2; exit 2; }
[ -x "$LG" ] && [ -x "$CH" ] && [ -x "$PY" ] && [ -f "$R/chat.hex" ] || {
    echo "run ../shared/peers/side-by-side.sh once first (it writes the request bodies)" >&2; exit 2; }

P_BASE=22170
# shellcheck source=scripts/release-mesh.sh
source "$ROOT/scripts/release-mesh.sh"
# The processes whose costs a cell reports (the chain's cell sets its own).
MEASURED=("${PIDS[@]}")
NAMES=(graph vector relational router chatbot)

# The router's Route bodies and the graph's person lookup, from the chat questions.
PYTHONPATH=$R "$PY" - "$W" "$R" <<'EOF'
import sys
from chatmesh.chat.v1 import chat_pb2
from chatmesh.router.v1 import router_pb2
from chatmesh.graph.v1 import graph_pb2
w, r = sys.argv[1], sys.argv[2]
chats = [chat_pb2.ChatRequest.FromString(bytes.fromhex(l.strip())) for l in open(f"{r}/chat.hex")]
def write(name, msgs):
    with open(f"{w}/{name}.hex", "w") as f:
        f.writelines(m.SerializeToString().hex() + "\n" for m in msgs)
write("route", [router_pb2.RouteRequest(query=c.message, session_id=c.session_id) for c in chats])
prefix = "who manages "
write("person", [graph_pb2.ExecuteQueryRequest(
    cypher="MATCH (p:Person {name: $name}) RETURN id(p)", access_mode=1, row_limit=1,
    parameters={"name": graph_pb2.Value(string_value=c.message[len(prefix):].rstrip("?"))})
    for c in chats if c.message.startswith(prefix)])
EOF

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }          # clock ticks (1/100 s)
switches() { cat /proc/"$1"/task/*/status | awk '/ctxt_switches/ {s += $2} END {print s}'; }
cell() {
    local name=$1 url=$2 bodies=$3 before=() sw=() out n costs="" procs names
    "$LG" grpc --url "http://127.0.0.1:$url" --bodies "$bodies" --concurrency "$C" \
        --duration "$SECS" --warmup 1 >"$W/cell.json" &
    local load=$!
    procs=("${MEASURED[@]}" "$load"); names=("${NAMES[@]}" loadgen)
    sleep 1  # the warm-up second is not counted in the calls, so not in the CPU time either
    for p in "${procs[@]}"; do before+=("$(cpu "$p")"); sw+=("$(switches "$p")"); done
    sleep "$((SECS - 1))"  # read the load generator's counters before it exits
    local last=() lsw=()
    for p in "${procs[@]}"; do last+=("$(cpu "$p")"); lsw+=("$(switches "$p")"); done
    wait "$load"
    out=$(tail -1 "$W/cell.json")
    n=$(echo "$out" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p'); n=$((n > 0 ? n : 1))
    # The counters cover SECS - 1 of the SECS measured seconds: scale the calls to match.
    n=$((n * (SECS - 1) / SECS)); n=$((n > 0 ? n : 1))
    for i in "${!procs[@]}"; do
        local us=$(( (last[i] - before[i]) * 10000000 / n / 1000 ))
        local cs=$(( (lsw[i] - sw[i]) * 10 / n ))
        if [ "$us" -gt 0 ]; then costs+=" ${names[$i]} ${us} µs/$((cs / 10)).$((cs % 10)) cs"; fi
    done
    printf '%-24s %s\n%24s cpu and context switches per call:%s\n' "$name" "$out" "" "$costs"
}
echo "# hop costs at c=$C, ${SECS}s cells, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), binaries $B"
for round in $(seq "$ROUNDS"); do
    echo "## round $round"
    cell "graph Health/Check" $P_GRAPH/grpc.health.v1.Health/Check "$R/health.hex"
    cell "graph person by name" $P_GRAPH/chatmesh.graph.v1.GraphService/ExecuteQuery "$W/person.hex"
    cell "graph ListNeighbors d2" $P_GRAPH/chatmesh.graph.v1.GraphService/ListNeighbors "$R/neighbors.hex"
    cell "vector Search" $P_VECTOR/chatmesh.vector.v1.VectorService/Search "$R/search.hex"
    cell "relational GetOrder" $P_REL/chatmesh.relational.v1.RelationalService/GetOrder "$R/order.hex"
    cell "router Route (chat mix)" $P_ROUTER/chatmesh.router.v1.RouterService/Route "$W/route.hex"
    cell "chatbot Chat (chat mix)" $P_CHAT/chatmesh.chat.v1.ChatService/Chat "$R/chat.hex"
done
# The bare chain (client -> first -> middle -> last), started after the mesh's cells so that it
# runs beside the same idle five.
P_CHAIN=$((P_BASE + 6))
start "$CH" --listen 127.0.0.1:$((P_CHAIN + 2))
start "$CH" --listen 127.0.0.1:$((P_CHAIN + 1)) --next http://127.0.0.1:$((P_CHAIN + 2))
start "$CH" --listen 127.0.0.1:$P_CHAIN --next http://127.0.0.1:$((P_CHAIN + 1))
MEASURED=("${PIDS[@]:5}"); NAMES=(last middle first)
sleep 0.5
for round in $(seq "$ROUNDS"); do
    cell "bare chain, 3 hops" $P_CHAIN/chain.v1.HopService/Hop "$R/hop.hex"
done
