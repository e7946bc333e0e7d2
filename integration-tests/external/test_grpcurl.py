"""grpcurl against every service, by server reflection alone (no .proto files given to grpcurl)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from chatmesh_external import (
    HEALTH_FQN,
    INSTALL_HINT,
    SERVICE_IDS,
    SERVICES,
    Service,
    client_env,
    declared_service,
    grpcurl_bin,
)

SERVICE_PARAMS = pytest.mark.parametrize("svc", SERVICES, ids=SERVICE_IDS)


@pytest.fixture(scope="session")
def grpcurl() -> Path:
    path = grpcurl_bin()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"grpcurl not found at {path} (set GRPCURL or {INSTALL_HINT})", pytrace=False)
    proc = subprocess.run([str(path), "-version"], capture_output=True, text=True, timeout=30)
    version = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 0 and version.startswith("grpcurl "), f"{path} -version: {version!r}"
    return path


def run_grpcurl(grpcurl: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [str(grpcurl), "-plaintext", "-connect-timeout", "10", "-max-time", "30", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=client_env())


def _show(proc: subprocess.CompletedProcess[str]) -> str:
    return f"`{' '.join(proc.args)}` exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"


@SERVICE_PARAMS
def test_list_shows_service_and_health(grpcurl: Path, mesh: dict[str, str], svc: Service) -> None:
    proc = run_grpcurl(grpcurl, mesh[svc.name], "list")
    assert proc.returncode == 0, _show(proc)
    listed = set(proc.stdout.split())
    assert svc.fqn in listed, _show(proc)
    assert HEALTH_FQN in listed, _show(proc)


@SERVICE_PARAMS
def test_describe_names_every_declared_rpc(grpcurl: Path, mesh: dict[str, str], svc: Service) -> None:
    declared = declared_service(svc)
    proc = run_grpcurl(grpcurl, mesh[svc.name], "describe", svc.fqn)
    assert proc.returncode == 0, _show(proc)
    assert f"{svc.fqn} is a service:" in proc.stdout, _show(proc)
    described = re.findall(r"^\s*rpc\s+(\w+)\s*\(", proc.stdout, flags=re.MULTILINE)
    missing = sorted(set(declared.rpcs) - set(described))
    extra = sorted(set(described) - set(declared.rpcs))
    assert not missing and not extra, (
        f"reflection's description of {svc.fqn} differs from {declared.proto_file}: "
        f"missing {missing}, not in the proto {extra}\n{_show(proc)}"
    )
    assert len(described) == len(declared.rpcs), f"duplicate rpc names in description\n{_show(proc)}"


@SERVICE_PARAMS
@pytest.mark.parametrize("health_target", ["", "fqn"], ids=["overall", "by-name"])
def test_health_check_serving(grpcurl: Path, mesh: dict[str, str], svc: Service, health_target: str) -> None:
    name = svc.fqn if health_target == "fqn" else ""
    proc = run_grpcurl(
        grpcurl, "-d", json.dumps({"service": name}), mesh[svc.name], f"{HEALTH_FQN}/Check"
    )
    assert proc.returncode == 0, _show(proc)
    assert '"status": "SERVING"' in proc.stdout, _show(proc)
    assert json.loads(proc.stdout) == {"status": "SERVING"}, _show(proc)


@SERVICE_PARAMS
def test_health_check_unknown_service_is_not_found(grpcurl: Path, mesh: dict[str, str], svc: Service) -> None:
    """Guards the SERVING assertions above against a health service that says yes to anything."""
    proc = run_grpcurl(
        grpcurl, "-d", json.dumps({"service": "chatmesh.no.such.v1.Service"}), mesh[svc.name], f"{HEALTH_FQN}/Check"
    )
    assert proc.returncode != 0, _show(proc)
    assert "NotFound" in proc.stderr or "NOT_FOUND" in proc.stderr, _show(proc)
