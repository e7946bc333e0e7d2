#!/usr/bin/env bash
# The compose part of CI, whole: a Docker engine and Compose v2, the base images when missing,
# `docker compose build`, `up --wait`, the compose suite (integration-tests/compose), and
# `down -v` whatever happened. Prints the figures docs/benchmarks.md reports (build, up --wait
# and down times, image sizes).
#
# Any failure exits non-zero, including an engine that cannot start: a suite that did not run
# is never reported as passed.
#
# Usage: scripts/compose-test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n--- %s ---\n' "$*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

step "Python tools (.tools/venv)"
bash scripts/install-tools.sh >/dev/null

step "Docker engine and Compose v2"
set +e
bash scripts/docker-engine.sh
engine=$?
set -e
if [ "$engine" -ne 0 ]; then
    echo "compose-test.sh: setting up Docker failed (exit $engine)" >&2
    exit "$engine"
fi

step "base images (made locally only when missing)"
bash scripts/docker-base-images.sh --postgres

# The stack's host ports, unless the caller chose them: below Linux's ephemeral range
# (32768-60999), where no outgoing connection on the machine can be holding one when `up`
# publishes it. docker-compose.yaml's own defaults (50051-50055, 50061/50062, 55432) are the
# product's documented ports and lie inside that range; the suite reads the same variables.
export CHATMESH_CHATBOT_PORT="${CHATMESH_CHATBOT_PORT:-25151}"
export CHATMESH_ROUTER_PORT="${CHATMESH_ROUTER_PORT:-25152}"
export CHATMESH_GRAPH_PORT="${CHATMESH_GRAPH_PORT:-25153}"
export CHATMESH_VECTOR_PORT="${CHATMESH_VECTOR_PORT:-25154}"
export CHATMESH_RELATIONAL_PORT="${CHATMESH_RELATIONAL_PORT:-25155}"
export CHATMESH_CHATBOT_2_PORT="${CHATMESH_CHATBOT_2_PORT:-25161}"
export CHATMESH_ROUTER_2_PORT="${CHATMESH_ROUTER_2_PORT:-25162}"
export CHATMESH_POSTGRES_PORT="${CHATMESH_POSTGRES_PORT:-25432}"
echo "host ports: chatbot $CHATMESH_CHATBOT_PORT, router $CHATMESH_ROUTER_PORT, graph $CHATMESH_GRAPH_PORT, vector $CHATMESH_VECTOR_PORT, relational $CHATMESH_RELATIONAL_PORT"

# A stack left by an earlier run (containers, volumes) would make this run depend on it.
docker compose down -v --remove-orphans --timeout 10 >/dev/null 2>&1 || true
cleanup() {
    step "docker compose down -v"
    local t
    t="$(now)"
    docker compose down -v --remove-orphans --timeout 10 || true
    echo "figure: docker compose down -v: $(since "$t") s"
}
trap cleanup EXIT

step "docker compose build"
# Without LTO and with 16 codegen units unless the caller says otherwise: a cold fat-LTO build
# of the images took 1,083 s of a 63-minute cold CI run, this one about half; what the suite
# checks (behaviour, health, users, sizes) does not depend on the optimiser.
export CHATMESH_RELEASE_LTO="${CHATMESH_RELEASE_LTO:-off}"
export CHATMESH_RELEASE_CODEGEN_UNITS="${CHATMESH_RELEASE_CODEGEN_UNITS:-16}"
echo "release profile: lto=$CHATMESH_RELEASE_LTO codegen-units=$CHATMESH_RELEASE_CODEGEN_UNITS"
t="$(now)"
docker compose --profile tools --progress plain build >/tmp/chatmesh-compose-build.log 2>&1 || {
    tail -n 60 /tmp/chatmesh-compose-build.log >&2
    echo "compose-test.sh: docker compose build failed (log: /tmp/chatmesh-compose-build.log)" >&2
    exit 1
}
echo "figure: docker compose build: $(since "$t") s"
for service in chatbot router graph vector relational cli; do
    # The image names docker-compose.yaml gives the services.
    image="${CHATMESH_IMAGE_PREFIX:-ghcr.io/chatmesh/chatmesh}-$service:${CHATMESH_IMAGE_TAG:-dev}"
    size="$(docker image inspect -f '{{.Size}}' "$image")"
    awk -v s="$size" -v n="$image" 'BEGIN { printf "figure: image %s: %.1f MB (%d bytes)\n", n, s / 1e6, s }'
done

step "docker compose up -d --wait"
t="$(now)"
if ! docker compose up -d --wait --wait-timeout 300; then
    docker compose ps -a >&2 || true
    docker compose logs --tail 40 >&2 || true
    exit 1
fi
echo "figure: docker compose up -d --wait (all five healthy): $(since "$t") s"

step "compose suite"
set +e
.tools/venv/bin/pytest integration-tests/compose -q "$@"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
    docker compose ps -a >&2 || true
    docker compose logs --tail 30 >&2 || true
fi
exit "$rc"
