#!/usr/bin/env bash
# What this machine allows a gRPC call, next to what the graph service does (issue 3's goal of
# 75k ListNeighbors calls/s; the figures are in docs/benchmarks.md, "The ceiling of this
# machine"). Starts a release chatmesh-graph on a fresh data directory, loads the benchmark
# workload, and then, RUNS times (default 3), always with 16 requests in flight:
#   - HTTP/2 alone: h2load against nghttpd serving a 1-byte file (C at both ends, no gRPC);
#   - h2load sending fixed gRPC requests to the graph service: Health/Check, ListNeighbors
#     (MANAGES, outgoing, depth 1..2) of a person with no reports and of one with 100;
#   - chatmesh bench grpc-health and graph-neighbors, with the CPU time the service and the
#     load generator each spent per call.
# h2load runs one thread over 2 connections of 8 streams each. Needs a release build
# (cargo build --release -p chatmesh-graph -p chatmesh); installs Debian's nghttp2-client and
# nghttp2-server (h2load, nghttpd) when missing, as root.
set -euo pipefail
RUNS="${1:-3}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"
ADDR=127.0.0.1:56053
WORK="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

command -v h2load >/dev/null && command -v nghttpd >/dev/null \
    || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nghttp2-client nghttp2-server >/dev/null

"$BIN/chatmesh-graph" --listen "$ADDR" --data-dir "$WORK/data" --log warn &
GRAPH_PID=$!
for _ in $(seq 60); do "$BIN/chatmesh" health --addr "$ADDR" --quiet && break; sleep 0.5; done
"$BIN/chatmesh" bench load-graph --addr "$ADDR" --workload "$ROOT/../shared/bench/workload.json" >&2

# gRPC frames: a zero flag byte, the length (4 bytes, big-endian), the protobuf message.
printf '\x00\x00\x00\x00\x00' > "$WORK/health.bin"
neighbors_of() { # ListNeighborsRequest{node_id: $1 (< 128), OUTGOING, ["MANAGES"], 1, 2}
    printf "\\x00\\x00\\x00\\x00\\x11\\x08\\x$(printf %02x "$1")\\x10\\x01\\x1a\\x07MANAGES\\x20\\x01\\x28\\x02"
}
neighbors_of 1 > "$WORK/leaf.bin"     # no reports: an empty answer
neighbors_of 41 > "$WORK/boss.bin"    # 100 people within two levels: 7.9 KB
reply_bytes() {
    curl -s --http2-prior-knowledge -H 'content-type: application/grpc' -H 'te: trailers' \
        --data-binary @"$WORK/$1.bin" "http://$ADDR/chatmesh.graph.v1.GraphService/ListNeighbors" | wc -c
}
[ "$(reply_bytes leaf)" -eq 5 ] && [ "$(reply_bytes boss)" -gt 7000 ] \
    || { echo "grpc-ceiling.sh: the workload's nodes 1 and 41 are not what this script expects" >&2; exit 1; }

rate() { grep -oE '[0-9.]+ req/s' | cut -d' ' -f1; }
grpc_load() { # FILE PATH CALLS
    h2load -n "$3" -c 2 -m 8 -t 1 -H 'content-type: application/grpc' -H 'te: trailers' \
        -d "$WORK/$1.bin" "http://$ADDR$2" 2>&1 | rate
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
printf 'x' > "$WORK/one-byte"
for run in $(seq "$RUNS"); do
    nghttpd --no-tls -d "$WORK" 58080 >/dev/null 2>&1 &
    NGHTTPD_PID=$!
    sleep 0.5
    static=$(h2load -n 300000 -c 2 -m 8 -t 1 http://127.0.0.1:58080/one-byte 2>&1 | rate)
    kill "$NGHTTPD_PID"
    line="run $run: nghttpd 1-byte file $static/s | h2load Health/Check $(grpc_load health /grpc.health.v1.Health/Check 150000)/s"
    line="$line | ListNeighbors no reports $(grpc_load leaf /chatmesh.graph.v1.GraphService/ListNeighbors 100000)/s"
    line="$line | 100 reports $(grpc_load boss /chatmesh.graph.v1.GraphService/ListNeighbors 15000)/s"
    for scenario in grpc-health graph-neighbors; do
        before=$(cpu_ticks "$GRAPH_PID")
        out=$(/usr/bin/time -f 'client-cpu %U %S' "$BIN/chatmesh" bench --addr "$ADDR" \
            --scenario "$scenario" --concurrency 16 --duration 5s --warmup 0s 2>&1)
        after=$(cpu_ticks "$GRAPH_PID")
        calls=$(grep -oE '^calls [0-9]+' <<<"$out" | cut -d' ' -f2)
        client=$(awk '/^client-cpu/ {print $2 + $3}' <<<"$out")
        line="$line | bench $scenario $(grep -oE 'throughput [0-9]+' <<<"$out" | cut -d' ' -f2)/s"
        line="$line p50 $(grep -oE 'p50 [0-9.]+' <<<"$out" | cut -d' ' -f2) ms"
        line="$line p99 $(grep -oE 'p99 [0-9.]+' <<<"$out" | cut -d' ' -f2) ms"
        line="$line, CPU per call: service $(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" \
            -v n="$calls" 'BEGIN {printf "%.0f", t / hz * 1e6 / n}') µs"
        line="$line, load generator $(awk -v c="$client" -v n="$calls" 'BEGIN {printf "%.0f", c * 1e6 / n}') µs"
    done
    echo "$line"
done
