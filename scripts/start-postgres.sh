#!/usr/bin/env bash
# Starts a local PostgreSQL 15 for the relational service's tests, idempotently, on Debian 12 as
# root without systemd: installs the server if missing (apt-get update only when needed), starts
# the cluster with pg_ctlcluster, waits until it accepts connections, and makes sure the test role
# (allowed to create databases: each test makes its own) and its database exist.
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

if [ "$(psql_admin "-c \"SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'\"")" != "1" ]; then
    log "creating role $ROLE"
    psql_admin "-c \"CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'\"" >/dev/null
fi
if [ "$(psql_admin "-c \"SELECT 1 FROM pg_database WHERE datname = '$DATABASE'\"")" != "1" ]; then
    log "creating database $DATABASE"
    psql_admin "-c \"CREATE DATABASE $DATABASE OWNER $ROLE\"" >/dev/null
fi

echo "postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DATABASE" >&3
