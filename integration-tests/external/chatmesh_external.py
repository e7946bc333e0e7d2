"""Shared helpers for the external-client test suite (no pytest fixtures here).

The suite talks to a running ``chatmesh up`` exactly as an outside client would:
grpcurl by server reflection alone, and Python stubs generated from ``proto/``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = REPO_ROOT / ".tools" / "bin"
INSTALL_HINT = "run scripts/install-tools.sh (from the repo root) to install the test tools into .tools/"

# Below Linux's ephemeral range (32768-60999 by default): a port in it can be held for a
# moment by any outgoing connection on the machine, which once failed a CI run's set-up.
DEFAULT_BASE_PORT = 26051
HEALTH_FQN = "grpc.health.v1.Health"


@dataclass(frozen=True)
class Service:
    """One chatmesh service as `chatmesh up` lays it out."""

    name: str  # short name, as in the fixture's dict ("chatbot")
    fqn: str  # fully-qualified gRPC service name
    port_offset: int  # port = base port + offset

    @property
    def package(self) -> str:
        return self.fqn.rsplit(".", 1)[0]

    @property
    def service_name(self) -> str:
        return self.fqn.rsplit(".", 1)[1]

    @property
    def proto_dir(self) -> Path:
        return proto_root() / Path(*self.package.split("."))

    def __str__(self) -> str:  # readable parametrize ids
        return self.name


SERVICES: tuple[Service, ...] = (
    Service("chatbot", "chatmesh.chat.v1.ChatService", 0),
    Service("router", "chatmesh.router.v1.RouterService", 1),
    Service("graph", "chatmesh.graph.v1.GraphService", 2),
    Service("vector", "chatmesh.vector.v1.VectorService", 3),
    Service("relational", "chatmesh.relational.v1.RelationalService", 4),
)
SERVICE_IDS = [s.name for s in SERVICES]


def proto_root() -> Path:
    """The proto import root: ``proto/`` in the repo (``CHATMESH_PROTO_ROOT`` overrides)."""
    override = os.environ.get("CHATMESH_PROTO_ROOT")
    return Path(override).resolve() if override else REPO_ROOT / "proto"


def base_port() -> int:
    raw = os.environ.get("CHATMESH_EXTERNAL_BASE_PORT", "").strip()
    return int(raw) if raw else DEFAULT_BASE_PORT


def chatmesh_bin() -> Path:
    """``$CHATMESH_BIN`` (a relative path is taken from the repo root), else target/debug/chatmesh."""
    raw = os.environ.get("CHATMESH_BIN", "").strip() or "target/debug/chatmesh"
    path = Path(raw)
    return path if path.is_absolute() else REPO_ROOT / path


def grpcurl_bin() -> Path:
    raw = os.environ.get("GRPCURL", "").strip()
    return Path(raw) if raw else TOOLS_BIN / "grpcurl"


def client_env() -> dict[str, str]:
    """The environment for client subprocesses: no proxy may sit between us and loopback."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost,::1"
    return env


# Python gRPC honours http_proxy/grpc_proxy; never for these loopback tests.
CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0)]


# --------------------------------------------------------------------------------------------
# Reading RPC declarations straight from the .proto source


def strip_comments_and_strings(src: str) -> str:
    """Blank out comments and string-literal contents so braces and keywords in them don't count."""
    out: list[str] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c == "/" and i + 1 < n and src[i + 1] == "/":
            j = src.find("\n", i)
            i = n if j < 0 else j
            out.append(" ")
        elif c == "/" and i + 1 < n and src[i + 1] == "*":
            j = src.find("*/", i + 2)
            i = n if j < 0 else j + 2
            out.append(" ")
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            i = j + 1
            out.append('""')
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _block_body(text: str, open_brace: int) -> str:
    depth = 0
    for j in range(open_brace, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[open_brace + 1 : j]
    raise ValueError("unbalanced braces")


@dataclass(frozen=True)
class DeclaredService:
    proto_file: str  # path relative to the proto root, e.g. "chatmesh/chat/v1/chat.proto"
    rpcs: tuple[str, ...]  # in declaration order


def declared_service(svc: Service) -> DeclaredService:
    """Find the .proto file under the service's package directory that declares the service,
    and the RPC names it declares. Raises AssertionError with a clear message if not found."""
    root = proto_root()
    files = sorted(svc.proto_dir.glob("*.proto"))
    assert files, f"no .proto files in {svc.proto_dir} (proto root {root})"
    found: list[DeclaredService] = []
    for path in files:
        text = strip_comments_and_strings(path.read_text(encoding="utf-8"))
        pkg = re.search(r"\bpackage\s+([\w.]+)\s*;", text)
        if not pkg or pkg.group(1) != svc.package:
            continue
        for m in re.finditer(rf"\bservice\s+{re.escape(svc.service_name)}\s*\{{", text):
            body = _block_body(text, m.end() - 1)
            rpcs = tuple(re.findall(r"\brpc\s+(\w+)\s*\(", body))
            found.append(DeclaredService(path.relative_to(root).as_posix(), rpcs))
    assert len(found) == 1, (
        f"expected exactly one declaration of service {svc.fqn} under {svc.proto_dir}, "
        f"found {len(found)}"
    )
    assert found[0].rpcs, f"service {svc.fqn} in {found[0].proto_file} declares no rpc"
    return found[0]


def proto_module_name(proto_file: str, suffix: str) -> str:
    """'chatmesh/chat/v1/chat.proto', '_pb2' -> 'chatmesh.chat.v1.chat_pb2' (protoc's naming)."""
    stem = proto_file[: -len(".proto")] if proto_file.endswith(".proto") else proto_file
    return stem.replace("/", ".").replace("-", "_") + suffix
