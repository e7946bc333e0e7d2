#!/usr/bin/env bash
# Issue 18's attacker list, replayed by hand against the release build the way the issue found
# it: `chatmesh up` with the shared workload loaded, grpcurl as the client, one check per line
# ("ok" or "FAIL", with what was seen). It complements the test suites, which prove each point
# in detail (run them against release binaries with scripts/test-release-binaries.sh); this
# script asks the shipped binary the issue's own questions. Item 9 (a backend's percent-encoded
# message passed on) needs a backend stopped behind the router: the router's pool tests prove it.
# Loopback only, about ten seconds.
#
#   cargo build --release --workspace && bash scripts/attack-release.sh
#
# Needs grpcurl on PATH (scripts/install-tools.sh) and ../shared/bench/workload.json.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
B=${CHATMESH_BIN_DIR:-$ROOT/target/release}
WL=${WORKLOAD:-$ROOT/../shared/bench/workload.json}
P=${BASE_PORT:-24051}; ROUTER=$((P + 1)); GRAPH=$((P + 2)); VECTOR=$((P + 3)); REL=$((P + 4))
W=$(mktemp -d); PIDS=(); FAILS=0
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
ok() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; FAILS=$((FAILS + 1)); }
# expect NAME PATTERN OUTPUT: ok when OUTPUT matches the extended regex PATTERN.
expect() { if grep -Eq "$2" <<<"$3"; then ok "$1"; else fail "$1: $(tr '\n' ' ' <<<"$3" | cut -c1-300)"; fi; }
# rpc PORT METHOD JSON [grpcurl flags]: one call, its answer or error on stdout.
rpc() { local port=$1 method=$2 body=$3; shift 3; grpcurl -plaintext "$@" -d "$body" "127.0.0.1:$port" "$method" 2>&1; }
up() { # up BASE_PORT [flags]: chatmesh up in the background (wait_health waits for it).
    local base=$1; shift
    "$B/chatmesh" up --base-port "$base" --data-dir "$W/data-$base" --log warn "$@" >"$W/up-$base.log" 2>&1 &
    PIDS+=($!)
}
wait_health() { # wait_health BASE_PORT [health flags]
    local base=$1; shift
    for port in $base $((base + 1)) $((base + 2)) $((base + 3)) $((base + 4)); do
        for _ in $(seq 300); do "$B/chatmesh" health --addr "127.0.0.1:$port" -q "$@" && break; sleep 0.1; done
    done
}
kib() { awk -v k="$1" '$1 == k ":" { print $2 }' "/proc/$2/status"; }

printf 'user-one-token\nuser-two-token\n' >"$W/users"
CHATMESH_AUTH_TOKENS_FILE="$W/users" CHATMESH_CYPHER_HINT_PRINCIPALS=token-2 up "$P"
UP=${PIDS[0]}
wait_health "$P"
"$B/chatmesh" bench load-graph --addr "127.0.0.1:$GRAPH" --workload "$WL" >/dev/null
echo "# chatmesh up (release, $B), workload loaded, $(date -u +%FT%TZ)"

# 1. An id at the end of the range is refused and ids are still allocated afterwards.
out=$(rpc $REL chatmesh.relational.v1.RelationalService/CreateOrder \
    '{"id":"9223372036854775807","customer":"x","product":"p","quantity":1,"status":"ORDER_STATUS_PENDING","totalCents":"1"}')
expect "1. CreateOrder id 2^63-1 refused" "InvalidArgument" "$out"
out=$(rpc $REL chatmesh.relational.v1.RelationalService/CreateOrder \
    '{"customer":"x","product":"p","quantity":1,"status":"ORDER_STATUS_PENDING","totalCents":"1"}')
expect "1. CreateOrder without an id still allocates one" '"id": "[0-9]+"' "$out"
expect "1. relational still SERVING" "SERVING" "$(rpc $REL grpc.health.v1.Health/Check '{}')"

# 2. The exploding query, eight at once: each ends RESOURCE_EXHAUSTED, the process survives.
q='MATCH (a)-[*1..2]-(b) WITH a, collect(b) AS bs MATCH (c)-[*1..2]-(d) RETURN count(*)'
for i in $(seq 8); do
    rpc $GRAPH chatmesh.graph.v1.GraphService/ExecuteQuery "{\"cypher\":\"$q\",\"accessMode\":\"ACCESS_MODE_READ\"}" -max-time 60 >"$W/explode.$i" &
done
wait_jobs() { for j in $(jobs -p); do [ "$j" = "$UP" ] || wait "$j"; done; }
wait_jobs
exhausted=$(grep -l ResourceExhausted "$W"/explode.* | wc -l)
[ "$exhausted" -eq 8 ] && ok "2. 8 exploding queries: 8 RESOURCE_EXHAUSTED" ||
    fail "2. exploding queries: $exhausted of 8 RESOURCE_EXHAUSTED; $(head -c 300 "$W/explode.1")"
peak=$(kib VmHWM "$UP"); sleep 2; now=$(kib VmRSS "$UP")
echo "      the whole mesh process: peak RSS $((peak / 1024)) MiB, $((now / 1024)) MiB two seconds later"
[ "$peak" -lt $((1024 * 1024)) ] && ok "2. peak RSS under 1 GiB (issue: 7.3 GiB)" || fail "2. peak RSS $((peak / 1024)) MiB"
expect "2. the graph answers afterwards" '"rows"' \
    "$(rpc $GRAPH chatmesh.graph.v1.GraphService/ExecuteQuery '{"cypher":"MATCH (n) RETURN count(n)"}')"

# 3. Free-form Cypher from a chat: refused to token-1, answered for token-2.
chat='{"sessionId":"attacker","message":"how many?","hints":{"cypher":"MATCH (n) RETURN count(n) AS n"}}'
expect "3. Cypher hint refused to token-1" "PermissionDenied" \
    "$(rpc $P chatmesh.chat.v1.ChatService/Chat "$chat" -H 'authorization: Bearer user-one-token')"
expect "3. Cypher hint answered for token-2" '"answer"' \
    "$(rpc $P chatmesh.chat.v1.ChatService/Chat "$chat" -H 'authorization: Bearer user-two-token')"
expect "3. no token at the front door: UNAUTHENTICATED" "Unauthenticated" \
    "$(rpc $P chatmesh.chat.v1.ChatService/Chat '{"sessionId":"a","message":"who manages Alan Turing?"}')"

# 6. A write whose deadline passes changes nothing. Matching the people is quick; the WHERE
# (each name against 100,000 numbers) takes about 2 s, and the CREATE runs along with it.
python3 -c '
import json, sys
ids = [{"intValue": str(i)} for i in range(100000)]
json.dump({"cypher": "MATCH (p:Person) WHERE NOT p.name IN $ids CREATE (:Late)",
           "accessMode": "ACCESS_MODE_WRITE",
           "parameters": {"ids": {"listValue": {"values": ids}}}}, sys.stdout)' >"$W/late.json"
late() { grpcurl -plaintext "$@" -d @ "127.0.0.1:$GRAPH" chatmesh.graph.v1.GraphService/ExecuteQuery <"$W/late.json" 2>&1; }
lates() { rpc $GRAPH chatmesh.graph.v1.GraphService/ExecuteQuery '{"cypher":"MATCH (l:Late) RETURN count(l) AS c"}'; }
expect "6. a write past its 200 ms deadline answers DEADLINE_EXCEEDED" "DeadlineExceeded" "$(late -max-time 0.2)"
sleep 1
expect "6. nothing of the late write was applied" '"intValue": "0"' "$(lates)"
expect "6. the same write with time to finish creates its nodes" '"nodesCreated": "[1-9]' "$(late -max-time 60)"

# 5. Callers' own short deadlines do not open the router's graph breaker. The same slow WHERE
# as above, as a read through the router (about 2 s; each call is cut at 50 ms).
python3 -c '
import json, sys
ids = [{"intValue": str(i)} for i in range(100000)]
json.dump({"query": "count",
           "hints": {"cypher": "MATCH (p:Person) WHERE NOT p.name IN $ids RETURN count(p) AS n",
                     "parameters": {"ids": {"listValue": {"values": ids}}}}}, sys.stdout)' >"$W/slow.json"
cut=0
for _ in $(seq 6); do
    out=$(grpcurl -plaintext -max-time 0.05 -H 'authorization: Bearer user-two-token' -d @ \
        "127.0.0.1:$ROUTER" chatmesh.router.v1.RouterService/Route <"$W/slow.json" 2>&1)
    grep -q DeadlineExceeded <<<"$out" && cut=$((cut + 1))
done
[ "$cut" -eq 6 ] && ok "5. six slow Route calls ended DEADLINE_EXCEEDED" || fail "5. only $cut of 6 calls ran out of time"
expect "5. after six calls cut by their own 50 ms deadline, a chat is answered from the graph" "Grace Hopper" \
    "$(rpc $P chatmesh.chat.v1.ChatService/Chat '{"sessionId":"b","message":"who manages Alan Turing?"}' -H 'authorization: Bearer user-one-token')"

# 7. Health Watch of an unknown service: a proper status (the issue accepts NOT_FOUND), not
# UNKNOWN "Stream removed".
expect "7. Watch of an unknown service ends NOT_FOUND" "NotFound" \
    "$(rpc $GRAPH grpc.health.v1.Health/Watch '{"service":"nope"}' -max-time 1)"

# 8. Contradictory range bounds.
rpc $VECTOR chatmesh.vector.v1.VectorService/CreateCollection '{"name":"attack","dimension":2,"distance":"DISTANCE_L2","embedder":"none"}' >/dev/null
expect "8. a range with gt and gte is INVALID_ARGUMENT" "InvalidArgument" \
    "$(rpc $VECTOR chatmesh.vector.v1.VectorService/Search '{"collection":"attack","nearVector":{"vector":[1,0]},"filter":{"rangeCondition":{"key":"rank","gt":1,"gte":2}}}')"

# 10. A malformed body is the caller's fault: INVALID_ARGUMENT, not INTERNAL.
bad=$(printf '\x00\x00\x00\x00\x02\x09\x07' | curl -s --http2-prior-knowledge -o /dev/null -D - \
    -H 'content-type: application/grpc' -H 'te: trailers' --data-binary @- \
    "http://127.0.0.1:$GRAPH/chatmesh.graph.v1.GraphService/GetNode")
expect "10. a frame that is not the message: grpc-status 3" "grpc-status: 3" "$bad"

# 4. Under mTLS, a certificate from the CA may call only what the topology allows.
"$B/chatmesh" certs --out "$W/certs" >/dev/null
T=$((P + 100)); up "$T" --tls-dir "$W/certs"
wait_health "$T" --tls-ca "$W/certs/ca.pem" --tls-cert "$W/certs/router.pem" --tls-key "$W/certs/router.key"
as() { local who=$1 port=$2 method=$3 body=$4; grpcurl -cacert "$W/certs/ca.pem" -cert "$W/certs/$who.pem" \
    -key "$W/certs/$who.key" -d "$body" "127.0.0.1:$port" "$method" 2>&1; }
expect "4. the vector service's certificate may not write to the graph" "PermissionDenied" \
    "$(as vector $((T + 2)) chatmesh.graph.v1.GraphService/CreateNode '{"labels":["X"]}')"
expect "4. the chatbot's certificate may not delete an order" "PermissionDenied" \
    "$(as chatbot $((T + 4)) chatmesh.relational.v1.RelationalService/DeleteOrder '{"id":"1"}')"
expect "4. the router's certificate may read an order" "NotFound|\"order\"" \
    "$(as router $((T + 4)) chatmesh.relational.v1.RelationalService/GetOrder '{"id":"1"}')"
expect "4. no client certificate: the handshake is refused" "certificate|handshake|broken pipe|connection reset" \
    "$(grpcurl -cacert "$W/certs/ca.pem" -d '{"message":"x"}' "127.0.0.1:$((T + 1))" chatmesh.router.v1.RouterService/Route 2>&1)"

echo "# $FAILS failed"
[ "$FAILS" -eq 0 ]
