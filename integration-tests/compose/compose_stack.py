"""Plain helpers of the compose suite (no pytest fixtures): where the services listen, and the
stack's containers as `docker compose` and `docker inspect` see them.

Endpoints come from the same variables docker-compose.yaml publishes its ports with, so one
setting moves both; any other stack can be targeted by pointing them elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from chatmesh_external import CHANNEL_OPTIONS, REPO_ROOT, SERVICES, client_env

DEFAULT_PORTS = {"chatbot": 50051, "router": 50052, "graph": 50053, "vector": 50054, "relational": 50055}
DATA_SERVICES = ("graph", "vector", "relational")


def free_port() -> int:
    """A loopback port free right now, for a second compose project's published ports."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def endpoints() -> dict[str, str]:
    """{service: "host:port"}: host `CHATMESH_COMPOSE_HOST` (127.0.0.1), ports
    `CHATMESH_<SERVICE>_PORT` (50051-50055), the variables docker-compose.yaml reads."""
    host = os.environ.get("CHATMESH_COMPOSE_HOST", "").strip() or "127.0.0.1"
    out = {}
    for svc in SERVICES:
        raw = os.environ.get(f"CHATMESH_{svc.name.upper()}_PORT", "").strip()
        out[svc.name] = f"{host}:{int(raw) if raw else DEFAULT_PORTS[svc.name]}"
    return out


def health_status(addr: str, service: str, timeout: float = 1.0) -> str:
    """The health status name of `service` at `addr`, or "rpc error <CODE>"."""
    with grpc.insecure_channel(addr, options=CHANNEL_OPTIONS) as channel:
        try:
            resp = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError as err:
            return f"rpc error {err.code().name}"
    return health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)


READY_TIMEOUT_S = 120.0


def wait_serving(addrs: dict[str, str], timeout: float = READY_TIMEOUT_S) -> None:
    """Waits until every service in `addrs` answers SERVING for "" and for its own name; an
    AssertionError names the ones that did not within `timeout` (a liveness bound)."""
    fqns = {svc.name: svc.fqn for svc in SERVICES}
    deadline = time.monotonic() + timeout
    last: dict[str, str] = {}
    pending = dict(addrs)
    while True:
        for name, addr in list(pending.items()):
            statuses = [health_status(addr, q) for q in ("", fqns[name])]
            last[name] = "/".join(statuses)
            if all(s == "SERVING" for s in statuses):
                del pending[name]
        if not pending:
            return
        if time.monotonic() > deadline:
            waiting = "; ".join(f"{n} @ {a}: {last.get(n)}" for n, a in pending.items())
            raise AssertionError(f"not SERVING within {timeout:.0f} s: {waiting}")
        time.sleep(0.25)


@dataclass
class Container:
    """One service's container as `docker inspect` reports it."""

    service: str
    id: str
    state: dict
    config: dict
    mounts: list

    @property
    def health(self) -> str:
        return (self.state.get("Health") or {}).get("Status", "<no healthcheck>")


class Compose:
    """`docker compose` on the stack under test: the file is `CHATMESH_COMPOSE_FILE` (the
    repository's docker-compose.yaml); the project is docker compose's own choice
    (`COMPOSE_PROJECT_NAME`, else the file's `name:`); `env_file` is passed as `--env-file`, the
    way a user starts a profile whose settings live in a file (compose.scale.env)."""

    def __init__(
        self, env: dict[str, str] | None = None, profiles: tuple[str, ...] = (), env_file: Path | None = None
    ) -> None:
        raw = os.environ.get("CHATMESH_COMPOSE_FILE", "").strip()
        self.file = Path(raw) if raw else REPO_ROOT / "docker-compose.yaml"
        self.env = {**client_env(), **(env or {})}
        self.profiles = profiles
        self.env_file = env_file
        self.docker = shutil.which("docker") or "docker"

    def run(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [self.docker, "compose", "-f", str(self.file)]
        if self.env_file is not None:
            cmd += ["--env-file", str(self.env_file)]
        for profile in self.profiles:
            cmd += ["--profile", profile]
        cmd += list(args)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=self.env, cwd=self.file.parent)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr}\n{proc.stdout}")
        return proc

    def timed(self, *args: str, timeout: float = 300) -> float:
        """Runs `docker compose ARGS` and returns how long it took, in seconds."""
        started = time.monotonic()
        self.run(*args, timeout=timeout)
        return time.monotonic() - started

    def check_running(self) -> None:
        missing = [s for s in DEFAULT_PORTS if not self.container_id(s)]
        assert not missing, (
            f"no container for {missing} in the compose project of {self.file}: start the stack with "
            "`docker compose up -d --wait` (scripts/compose-test.sh does everything)"
        )

    def container_id(self, service: str) -> str:
        return self.run("ps", "-a", "-q", service, check=False).stdout.strip()

    def inspect(self, service: str) -> Container:
        cid = self.container_id(service)
        assert cid, f"no container for service {service}"
        proc = subprocess.run([self.docker, "inspect", cid], capture_output=True, text=True, timeout=60, check=True)
        (data,) = json.loads(proc.stdout)
        return Container(service, cid, data["State"], data["Config"], data.get("Mounts") or [])

    def image(self, service: str) -> str:
        return self.inspect(service).config["Image"]
