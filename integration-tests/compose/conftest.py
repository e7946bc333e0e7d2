"""Fixtures of the compose suite: the endpoints of a running stack (from the environment), its
containers through `docker compose`, and the Python client generated from proto/, which this
suite shares with the external-client suite (integration-tests/external) rather than copying it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The external suite's helpers and its session fixture that generates the Python stubs.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "external"))

from chatmesh_external import CHANNEL_OPTIONS, INSTALL_HINT, SERVICES  # noqa: E402
from compose_stack import Compose, endpoints, wait_serving  # noqa: E402
from test_python_client import Generated, generated, service_modules  # noqa: E402,F401

try:
    import grpc
except ImportError as exc:
    raise ImportError(f"{exc}; {INSTALL_HINT} and run the suite with .tools/venv/bin/pytest") from exc


@pytest.fixture(scope="session")
def compose() -> Compose:
    """`docker compose` on the stack under test (fails the run when it does not answer)."""
    stack = Compose()
    stack.check_running()
    return stack


@pytest.fixture(scope="session")
def mesh() -> dict[str, str]:
    """{service short name: "host:port"} of the stack under test, once all five are SERVING.
    The same name as the external suite's fixture, so its tests run here unchanged."""
    addrs = endpoints()
    try:
        wait_serving(addrs)
    except AssertionError as exc:
        pytest.fail(f"{exc} (is the stack up? scripts/compose-test.sh starts it)", pytrace=False)
    return addrs


@pytest.fixture(scope="session")
def stubs(generated: Generated, mesh: dict[str, str]):
    """Generated stubs of the three data services on channels that live for the session, so
    that reconnection after a container restart is the client library's ordinary behaviour."""
    by_name = {svc.name: svc for svc in SERVICES}
    channels = {name: grpc.insecure_channel(mesh[name], options=CHANNEL_OPTIONS) for name in ("graph", "vector", "relational")}
    out = {}
    for name, channel in channels.items():
        pb2, pb2_grpc = service_modules(generated, by_name[name])
        out[name] = (pb2, getattr(pb2_grpc, f"{by_name[name].service_name}Stub")(channel))
    yield out
    for channel in channels.values():
        channel.close()
