"""Fixtures for the MCP suite: the external suite's `mesh` (one `chatmesh up` for the session,
seeded with the demo organisation) reused as it is, plus the router's MCP URL and the stdio
command that `chatmesh mcp` runs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

EXTERNAL = Path(__file__).resolve().parent.parent / "external"
sys.path.insert(0, str(EXTERNAL))


def _load_external_conftest():
    # Loaded under its own module name: both folders call their fixture file conftest.py.
    spec = importlib.util.spec_from_file_location("chatmesh_external_conftest", EXTERNAL / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mesh = _load_external_conftest().mesh

from chatmesh_external import chatmesh_bin  # noqa: E402  (needs EXTERNAL on sys.path)

try:
    from mcp import StdioServerParameters
except ImportError as exc:  # running with an interpreter that lacks the MCP SDK
    raise ImportError(
        f"{exc}; the MCP suite needs the `mcp` package: run scripts/install-tools.sh "
        "and run it with .tools/venv/bin/pytest"
    ) from exc


@pytest.fixture(scope="session")
def mcp_url(mesh: dict[str, str]) -> str:
    """The router's streamable HTTP MCP endpoint."""
    return f"http://{mesh['router']}/mcp"


@pytest.fixture(scope="session")
def stdio_server(mesh: dict[str, str]) -> StdioServerParameters:
    """`chatmesh mcp` against the running router, as a desktop agent would start it."""
    return StdioServerParameters(
        command=str(chatmesh_bin()),
        args=["mcp", "--router-addr", f"http://{mesh['router']}"],
    )
