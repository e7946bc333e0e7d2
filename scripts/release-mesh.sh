# Sourced, not run: starts the five release processes on loopback the way
# ../shared/peers/side-by-side.sh runs them (embedded engines, sqlite, data in a temporary
# directory), waits until each answers health, and loads ../shared/bench/workload.json.
# Used by profile-mesh.sh and hop-costs.sh, so that what they measure is the same mesh.
#
# In:  B (the binaries' directory), WL (the workload), P_BASE (ports P_BASE+1 .. P_BASE+5).
# Out: W (the temporary directory), PIDS (graph vector relational router chatbot, in that
#      order), P_CHAT P_ROUTER P_GRAPH P_VECTOR P_REL; an EXIT trap stops them and removes W.
W=$(mktemp -d); PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
P_CHAT=$((P_BASE + 1)) P_ROUTER=$((P_BASE + 2)) P_GRAPH=$((P_BASE + 3)) P_VECTOR=$((P_BASE + 4)) P_REL=$((P_BASE + 5))
start() { "$@" >"$W/$(basename "$1").log" 2>&1 & PIDS+=($!); }
start "$B/chatmesh-graph" --listen 127.0.0.1:$P_GRAPH --data-dir "$W/graph" --log warn
start "$B/chatmesh-vector" --listen 127.0.0.1:$P_VECTOR --data-dir "$W/vector" --log warn
start "$B/chatmesh-relational" --listen 127.0.0.1:$P_REL --database-url "sqlite://$W/rel.db" --log warn
start "$B/chatmesh-router" --listen 127.0.0.1:$P_ROUTER --graph-addr http://127.0.0.1:$P_GRAPH \
    --vector-addr http://127.0.0.1:$P_VECTOR --relational-addr http://127.0.0.1:$P_REL \
    --default-collection faq --log warn
start "$B/chatmesh-chatbot" --listen 127.0.0.1:$P_CHAT --router-addr http://127.0.0.1:$P_ROUTER --log warn
for p in $P_CHAT $P_ROUTER $P_GRAPH $P_VECTOR $P_REL; do
    for _ in $(seq 100); do "$B/chatmesh" health --addr 127.0.0.1:$p -q && break; sleep 0.1; done
done
"$B/chatmesh" bench load-graph --addr 127.0.0.1:$P_GRAPH --workload "$WL" >/dev/null
"$B/chatmesh" bench load-faqs --addr 127.0.0.1:$P_VECTOR --workload "$WL" >/dev/null
"$B/chatmesh" bench load-orders --addr 127.0.0.1:$P_REL --workload "$WL" >/dev/null
