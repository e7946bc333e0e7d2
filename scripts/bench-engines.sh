#!/usr/bin/env bash
# The embedded engines against their PostgreSQL counterparts, in one run with one lean load
# generator (issue 16's figures): vector Search near_text and near_vector k=5 on the workload's
# 2,000 FAQs (hnsw_rs in process vs pgvector's HNSW), and the chat mix with sessions in memory vs in
# PostgreSQL. Two meshes run side by side, the same but for the chatbot's sessions (memory, or
# PostgreSQL), next to a lone vector service on pgvector; cells alternate, ROUNDS times. Both
# vector services embed with the same embedder (the model when models/ has it).
#
#   scripts/bench-engines.sh POSTGRES_URL [SECS=5] [ROUNDS=3]
#
# POSTGRES_URL: a server where the user may create databases (scripts/start-postgres.sh prints
# one); two databases, chatmesh_bench_vectors and chatmesh_bench_sessions, are made afresh.
# Needs a release build and the request bodies and load generator that
# ../shared/peers/side-by-side.sh leaves in target/peers/ (run it once first). Loopback only.
set -euo pipefail
URL=${1:?usage: scripts/bench-engines.sh POSTGRES_URL [SECS] [ROUNDS]}
SECS=${2:-5}; ROUNDS=${3:-3}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
B=$ROOT/target/release
RUN=$ROOT/target/peers/run
LG=$ROOT/target/peers/cargo/release/loadgen
WL=$ROOT/../shared/bench/workload.json
[ -x "$B/chatmesh-chatbot" ] || { echo "build first: cargo build --release --workspace" >&2; exit 2; }
[ -x "$LG" ] && [ -f "$RUN/search.hex" ] && [ -f "$RUN/chat.hex" ] || {
    echo "run ../shared/peers/side-by-side.sh once first (it writes the request bodies)" >&2; exit 2; }

base=${URL%/*}
for db in chatmesh_bench_vectors chatmesh_bench_sessions; do
    psql -q "$URL" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
done
W=$(mktemp -d); PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
start() { "$@" >"$W/$(basename "$1").$RANDOM.log" 2>&1 & PIDS+=($!); }

# mesh NAME BASE_PORT [extra vector flags] -- [extra chatbot flags]
mesh() {
    local name=$1 p=$2; shift 2
    local vector=() chatbot=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do vector+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    chatbot=("$@")
    start "$B/chatmesh-graph" --listen 127.0.0.1:$((p + 2)) --data-dir "$W/$name-graph" --log warn
    start "$B/chatmesh-vector" --listen 127.0.0.1:$((p + 3)) --data-dir "$W/$name-vector" --log warn "${vector[@]}"
    start "$B/chatmesh-relational" --listen 127.0.0.1:$((p + 4)) --database-url "sqlite://$W/$name-rel.db" --log warn
    start "$B/chatmesh-router" --listen 127.0.0.1:$((p + 1)) --graph-addr http://127.0.0.1:$((p + 2)) \
        --vector-addr http://127.0.0.1:$((p + 3)) --relational-addr http://127.0.0.1:$((p + 4)) \
        --default-collection faq --log warn
    start "$B/chatmesh-chatbot" --listen 127.0.0.1:$p --router-addr http://127.0.0.1:$((p + 1)) --log warn "${chatbot[@]}"
    for q in $p $((p + 1)) $((p + 2)) $((p + 3)) $((p + 4)); do
        for _ in $(seq 300); do "$B/chatmesh" health --addr 127.0.0.1:$q -q && break; sleep 0.1; done
    done
    "$B/chatmesh" bench load-graph --addr 127.0.0.1:$((p + 2)) --workload "$WL" >/dev/null
    "$B/chatmesh" bench load-faqs --addr 127.0.0.1:$((p + 3)) --workload "$WL" >/dev/null
    "$B/chatmesh" bench load-orders --addr 127.0.0.1:$((p + 4)) --workload "$WL" >/dev/null
}
E=22171 P=22181
mesh embedded $E
mesh postgres $P -- --session-url "$base/chatmesh_bench_sessions"
V=$((P + 5))
start "$B/chatmesh-vector" --listen 127.0.0.1:$V --database-url "$base/chatmesh_bench_vectors" --log warn
for _ in $(seq 300); do "$B/chatmesh" health --addr 127.0.0.1:$V -q && break; sleep 0.1; done
"$B/chatmesh" bench load-faqs --addr 127.0.0.1:$V --workload "$WL" >/dev/null

# near_vector bodies: the workload's near_text queries embedded once, by the embedded service
# (both engines embed with the same embedder), so these cells time the search alone.
PY=$ROOT/target/peers/venv/bin/python
(cd "$W" && "$PY" -m grpc_tools.protoc -I"$ROOT/proto" --python_out=. --grpc_python_out=. $(cd "$ROOT/proto" && ls chatmesh/*/v1/*.proto))
PYTHONPATH=$W "$PY" - "$RUN/search.hex" "$RUN/search-vector.hex" $((E + 3)) <<'PYEOF'
import sys, grpc
from chatmesh.vector.v1 import vector_pb2 as pb, vector_pb2_grpc
src, dst, port = sys.argv[1:]
texts = [pb.SearchRequest.FromString(bytes.fromhex(l)) for l in open(src) if l.strip()]
stub = vector_pb2_grpc.VectorServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
with open(dst, "w") as f:
    for i in range(0, len(texts), 256):
        batch = texts[i:i + 256]
        out = stub.EmbedText(pb.EmbedTextRequest(collection="faq", texts=[r.near_text for r in batch]))
        for r, e in zip(batch, out.embeddings, strict=True):
            q = pb.SearchRequest(collection=r.collection, k=r.k, near_vector=pb.NearVector(vector=e.vector))
            f.write(q.SerializeToString().hex() + "\n")
PYEOF

g() { "$LG" grpc --url "http://127.0.0.1:$1" --bodies "$RUN/$2.hex" --concurrency "$3" --duration "$SECS" --warmup 1; }
cell() { local name=$1; shift; printf '%-44s %s\n' "$name" "$("$@" | tail -1)"; }
echo "# engines side by side: ${SECS}s cells, $ROUNDS rounds, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
for r in $(seq "$ROUNDS"); do
    echo "## round $r"
    cell "vector near_text k=5, embedded, c=16" g $((E + 3))/chatmesh.vector.v1.VectorService/Search search 16
    cell "vector near_text k=5, pgvector, c=16" g $V/chatmesh.vector.v1.VectorService/Search search 16
    cell "vector near_vector k=5, embedded, c=16" g $((E + 3))/chatmesh.vector.v1.VectorService/Search search-vector 16
    cell "vector near_vector k=5, pgvector, c=16" g $V/chatmesh.vector.v1.VectorService/Search search-vector 16
    cell "chat mix, sessions in memory, c=16" g $E/chatmesh.chat.v1.ChatService/Chat chat 16
    cell "chat mix, sessions in PostgreSQL, c=16" g $P/chatmesh.chat.v1.ChatService/Chat chat 16
done
