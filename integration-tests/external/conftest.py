"""Session fixture: one `chatmesh up` process serving all five services on loopback."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from chatmesh_external import (
    CHANNEL_OPTIONS,
    INSTALL_HINT,
    SERVICES,
    base_port,
    chatmesh_bin,
)

try:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc
except ImportError as exc:  # running with an interpreter that lacks the tools
    raise ImportError(
        f"{exc}; the external suite needs grpcio and grpcio-health-checking: {INSTALL_HINT} "
        "and run it with .tools/venv/bin/pytest"
    ) from exc

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 60.0
SHUTDOWN_TIMEOUT_S = 15.0


def _tail(path: Path, limit: int = 8000) -> str:
    try:
        data = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    return data if len(data) <= limit else "...\n" + data[-limit:]


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def _health_status(stub, service: str) -> str:
    try:
        resp = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=1.0)
    except grpc.RpcError as err:
        return f"rpc error {err.code().name}"
    return health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)


@pytest.fixture(scope="session")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Start `$CHATMESH_BIN up` and yield {service short name: "127.0.0.1:port"} once every
    service reports SERVING (both for "" and its own name). At teardown, SIGINT must make it
    exit 0 within 15 s."""
    binary = chatmesh_bin()
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.fail(
            f"chatmesh binary not found at {binary}: build it with `cargo build -p chatmesh` "
            "or point CHATMESH_BIN at it",
            pytrace=False,
        )

    base = base_port()
    addrs = {svc.name: f"{HOST}:{base + svc.port_offset}" for svc in SERVICES}
    busy = [addrs[svc.name] for svc in SERVICES if not _port_is_free(base + svc.port_offset)]
    if busy:
        pytest.fail(
            f"ports already in use: {busy}; stop whatever listens there or set "
            "CHATMESH_EXTERNAL_BASE_PORT to another base port",
            pytrace=False,
        )

    work = tmp_path_factory.mktemp("chatmesh-up")
    data_dir = work / "data"
    data_dir.mkdir()
    stdout_path, stderr_path = work / "stdout.log", work / "stderr.log"
    cmd = [str(binary), "up", "--host", HOST, "--base-port", str(base), "--data-dir", str(data_dir)]

    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=work)

    def describe_exit(what: str) -> str:
        return (
            f"{what}\ncommand: {' '.join(cmd)}\n"
            f"--- stderr ({stderr_path}) ---\n{_tail(stderr_path)}\n"
            f"--- stdout ({stdout_path}) ---\n{_tail(stdout_path, 2000)}"
        )

    channels = {name: grpc.insecure_channel(addr, options=CHANNEL_OPTIONS) for name, addr in addrs.items()}
    try:
        stubs = {name: health_pb2_grpc.HealthStub(ch) for name, ch in channels.items()}
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        pending = {svc.name: svc for svc in SERVICES}
        last: dict[str, str] = {}
        while pending:
            rc = proc.poll()
            if rc is not None:
                pytest.fail(describe_exit(f"`chatmesh up` exited early with code {rc}"), pytrace=False)
            for name, svc in list(pending.items()):
                statuses = {q: _health_status(stubs[name], q) for q in ("", svc.fqn)}
                last[name] = ", ".join(f"{q or '<overall>'}={s}" for q, s in statuses.items())
                if all(s == "SERVING" for s in statuses.values()):
                    del pending[name]
            if not pending:
                break
            if time.monotonic() > deadline:
                waiting = "; ".join(f"{n} @ {addrs[n]}: {last.get(n)}" for n in pending)
                pytest.fail(
                    describe_exit(f"not SERVING within {STARTUP_TIMEOUT_S:.0f} s: {waiting}"),
                    pytrace=False,
                )
            time.sleep(0.25)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        for ch in channels.values():
            ch.close()

    yield addrs

    # Teardown: graceful shutdown on SIGINT, exit code 0, within the bound.
    rc = proc.poll()
    assert rc is None, describe_exit(f"`chatmesh up` died during the tests with code {rc}")
    proc.send_signal(signal.SIGINT)
    try:
        rc = proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        rc = None
    assert rc is not None, describe_exit(f"`chatmesh up` did not exit within {SHUTDOWN_TIMEOUT_S:.0f} s of SIGINT")
    assert rc == 0, describe_exit(f"`chatmesh up` exited with code {rc} after SIGINT (expected 0)")
