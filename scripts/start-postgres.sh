#!/usr/bin/env bash
# Starts a local PostgreSQL 15 for the relational service's tests, idempotently, on Debian 12 as
# root without systemd: installs the server if missing (apt-get update only when needed), starts
# the cluster with pg_ctlcluster, waits until it accepts connections, and makes sure the test role
# (allowed to create databases: each test makes its own) and its database exist.
#
# It also provides pgvector (the `vector` type and its HNSW/IVFFlat indexes). Debian 12 has no
# package for it, so when /usr/share/postgresql/15/extension/vector.control is missing it is built
# from Debian's own source package (suite trixie, pgvector 0.8.x): the build dependencies
# (postgresql-server-dev-15, dpkg-dev) come from bookworm as usual; the source comes through a
# private, throw-away apt configuration (its own deb-src list and list directory under a temp
# directory), so the machine's apt sources never name trixie and no trixie binary package can be
# installed. Cold: ~30 s here (~10 s apt for postgresql-server-dev-15 and clang-14, ~15 s fetch and
# build); skipped afterwards.
# pgvector is not a trusted extension (its control file has no `trusted = true`), so the role
# chatmesh (not superuser) cannot CREATE EXTENSION itself. The extension is therefore created,
# as superuser, in template1 (and in the chatmesh database): every database a test creates is
# copied from template1 and has `vector` already, and the tests' own
# `CREATE EXTENSION IF NOT EXISTS vector` is then a no-op that needs no privilege.
# Prints the URL to use, e.g. CHATMESH_TEST_POSTGRES_URL=$(bash scripts/start-postgres.sh).
set -euo pipefail

# Only the URL goes to stdout: pg_ctlcluster and friends chat on stdout (for example "Removed stale
# pid file." after an unclean stop), so everything else is sent to stderr.
exec 3>&1 1>&2

VERSION=15
CLUSTER=main
ROLE=chatmesh
PASSWORD=chatmesh
DATABASE=chatmesh
PORT=5432

log() { echo "start-postgres: $*" >&2; }

if ! command -v pg_ctlcluster >/dev/null || [ ! -x "/usr/lib/postgresql/$VERSION/bin/postgres" ]; then
    log "installing postgresql-$VERSION"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "postgresql-$VERSION" >/dev/null 2>&1; then
        apt-get update -qq >/dev/null
        apt-get install -y --no-install-recommends "postgresql-$VERSION" >/dev/null
    fi
fi

if ! pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
    log "creating cluster $VERSION/$CLUSTER"
    pg_createcluster "$VERSION" "$CLUSTER" --port "$PORT" >/dev/null
fi

if ! pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c && $4 == "online" { up = 1 } END { exit !up }'; then
    log "starting cluster $VERSION/$CLUSTER"
    pg_ctlcluster "$VERSION" "$CLUSTER" start 3>&- # the server must not inherit the URL pipe
fi

for _ in $(seq 1 60); do
    if pg_isready -q -h 127.0.0.1 -p "$PORT"; then
        break
    fi
    sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$PORT" || { log "PostgreSQL did not become ready"; exit 1; }

psql_admin() { su postgres -c "psql -v ON_ERROR_STOP=1 -qtA -p $PORT $*"; }

PG_CONFIG="/usr/lib/postgresql/$VERSION/bin/pg_config"
VECTOR_CONTROL="/usr/share/postgresql/$VERSION/extension/vector.control"

install_pgvector() {
    local started=$SECONDS work
    log "building pgvector from Debian's source package (trixie)"
    export DEBIAN_FRONTEND=noninteractive
    # Build dependencies from the machine's own (bookworm) sources.
    # (pg_config alone comes with the client package: look for the server headers.)
    if [ ! -f "/usr/include/postgresql/$VERSION/server/postgres.h" ] || ! command -v dpkg-source >/dev/null \
        || ! command -v make >/dev/null || ! command -v gcc >/dev/null; then
        if ! apt-get install -y --no-install-recommends "postgresql-server-dev-$VERSION" dpkg-dev make gcc >/dev/null 2>&1; then
            apt-get update -qq >/dev/null
            apt-get install -y --no-install-recommends "postgresql-server-dev-$VERSION" dpkg-dev make gcc >/dev/null
        fi
    fi
    work=$(mktemp -d /tmp/chatmesh-pgvector.XXXXXX)
    # shellcheck disable=SC2064 # expand $work now
    trap "rm -rf '$work'" EXIT
    # A private apt configuration that knows only trixie's *source* index: it lives in $work and
    # goes with it, the system's sources.list.d and package lists are not touched.
    mkdir -p "$work/parts" "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
        >"$work/sources.list"
    local apt_private=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=$work/parts"
        -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "APT::Get::List-Cleanup=false" -o "APT::Sandbox::User=root")
    apt-get "${apt_private[@]}" update -qq >/dev/null
    (cd "$work/src" && apt-get "${apt_private[@]}" source --download-only -qq pgvector >/dev/null)
    local orig
    orig=$(find "$work/src" -maxdepth 1 -name 'pgvector_*.orig.tar.*' | head -n 1)
    [ -n "$orig" ] || { log "no pgvector orig tarball was downloaded"; exit 1; }
    tar -xf "$orig" -C "$work/src"
    local dir
    dir=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d | head -n 1)
    # OPTFLAGS="": no -march=native, the library must run on any x86-64 machine.
    make -C "$dir" -j"$(nproc)" PG_CONFIG="$PG_CONFIG" OPTFLAGS="" >/dev/null
    make -C "$dir" install PG_CONFIG="$PG_CONFIG" >/dev/null
    rm -rf "$work"
    trap - EXIT
    log "pgvector $(sed -n "s/^default_version = '\(.*\)'/\1/p" "$VECTOR_CONTROL") installed in $((SECONDS - started)) s"
}

[ -f "$VECTOR_CONTROL" ] || install_pgvector

if [ "$(psql_admin "-c \"SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'\"")" != "1" ]; then
    log "creating role $ROLE"
    psql_admin "-c \"CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'\"" >/dev/null
fi
if [ "$(psql_admin "-c \"SELECT 1 FROM pg_database WHERE datname = '$DATABASE'\"")" != "1" ]; then
    log "creating database $DATABASE"
    psql_admin "-c \"CREATE DATABASE $DATABASE OWNER $ROLE\"" >/dev/null
fi
# template1 first: databases created from it from now on carry the extension.
for db in template1 "$DATABASE"; do
    if [ "$(psql_admin "-d $db -c \"SELECT 1 FROM pg_extension WHERE extname = 'vector'\"")" != "1" ]; then
        log "creating extension vector in $db"
        psql_admin "-d $db -c \"CREATE EXTENSION IF NOT EXISTS vector\"" >/dev/null
    fi
done

echo "postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DATABASE" >&3
