#!/usr/bin/env bash
# Supply-chain gate: cargo-deny over the whole dependency tree (policy in deny.toml).
#   scripts/deny.sh [check ...]      (default: advisories bans licenses sources)
# The RustSec advisory database cannot be fetched from these machines, so the advisories come
# from the offline snapshot beside the repository (../shared/advisory-db, or the folder in
# CHATMESH_ADVISORY_DB). cargo-deny wants a git checkout in a folder named after the database
# URL: the snapshot is copied, as one commit, to target/advisory-dbs (deny.toml's db-path), and
# cargo-deny runs --offline for the database. cargo-deny's `cargo metadata` resolves the tree for
# every target platform, so it needs crates a Linux build never downloads (Windows, Android,
# wasm): `cargo fetch --locked` (all platforms, from crates.io) brings them first, so a fresh
# machine with an empty registry cache passes as a warm one does.
# Needs cargo-deny (scripts/install-tools.sh installs it) and git.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SNAPSHOT="${CHATMESH_ADVISORY_DB:-$ROOT/../shared/advisory-db}"
if [ ! -d "$SNAPSHOT/crates" ]; then
    echo "deny.sh: no advisory database at $SNAPSHOT (set CHATMESH_ADVISORY_DB)" >&2
    exit 1
fi
# The folder name cargo-deny derives from its default advisory-db URL.
DB="$ROOT/target/advisory-dbs/advisory-db-3157b0e258782691"
rm -rf "$DB"
mkdir -p "$DB"
cp -R "$SNAPSHOT/." "$DB/"
git -C "$DB" init -q
git -C "$DB" add -A
git -C "$DB" -c user.email=ci@localhost -c user.name=chatmesh-ci commit -qm "advisory-db snapshot"

cargo fetch --locked --quiet

if [ "$#" -eq 0 ]; then
    set -- advisories bans licenses sources
fi
exec cargo deny --offline --locked check --hide-inclusion-graph "$@"
