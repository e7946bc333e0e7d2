"""The containers themselves: each is healthy by its own binary's `health` subcommand, runs as
the distroless nonroot user with no shell in the image, keeps its store on a named volume owned
by that user, and publishes its port on loopback only."""

from __future__ import annotations

import subprocess

import pytest

from chatmesh_external import SERVICES
from compose_stack import DATA_SERVICES, Compose

SERVICE_NAMES = [svc.name for svc in SERVICES]
NONROOT = "65532"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_container_is_healthy_by_its_own_probe(compose: Compose, mesh: dict[str, str], service: str) -> None:
    container = compose.inspect(service)
    assert container.state["Running"], f"{service}: {container.state}"
    assert container.health == "healthy", f"{service}: health {container.health}: {container.state.get('Health')}"
    test = container.config["Healthcheck"]["Test"]
    assert test[:2] == ["CMD", f"/usr/local/bin/chatmesh-{service}"] and "health" in test, test
    last = container.state["Health"]["Log"][-1]
    assert last["ExitCode"] == 0 and "SERVING" in last["Output"], last


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_health_subcommand_exit_codes(compose: Compose, mesh: dict[str, str], service: str) -> None:
    """Inside the container: 0 for the service's own name and for the whole server, 1 for a
    name the server does not know (NOT_FOUND) and for an address where nothing listens."""
    binary = f"/usr/local/bin/chatmesh-{service}"

    def probe(*args: str) -> subprocess.CompletedProcess[str]:
        return compose.run("exec", "-T", service, binary, "health", *args, check=False, timeout=60)

    ok = probe()
    assert ok.returncode == 0, f"{service} health: {ok.returncode} {ok.stdout} {ok.stderr}"
    assert "SERVING" in ok.stdout, ok.stdout
    assert probe("--service", "").returncode == 0
    unknown = probe("--service", "chatmesh.nothing.v1.Nothing")
    assert unknown.returncode == 1, f"{unknown.returncode} {unknown.stdout} {unknown.stderr}"
    closed = probe("--addr", "127.0.0.1:1", "--timeout", "2s")
    assert closed.returncode == 1, f"{closed.returncode} {closed.stdout} {closed.stderr}"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_runs_as_nonroot_with_no_shell(compose: Compose, service: str) -> None:
    container = compose.inspect(service)
    assert container.config["User"].split(":")[0] == NONROOT, container.config["User"]
    image = container.config["Image"]
    for shell in ("/bin/sh", "/bin/bash", "/busybox/sh"):
        proc = subprocess.run(
            ["docker", "run", "--rm", "--entrypoint", shell, image, "-c", "true"],
            capture_output=True, text=True, timeout=120,
        )
        assert proc.returncode != 0, f"{image} has a working {shell}"


@pytest.mark.parametrize("service", DATA_SERVICES)
def test_store_is_a_named_volume_owned_by_nonroot(compose: Compose, service: str) -> None:
    container = compose.inspect(service)
    (mount,) = [m for m in container.mounts if m["Destination"] == "/data"]
    assert mount["Type"] == "volume" and mount["Name"].endswith(f"{service}-data"), mount
    assert mount["RW"], mount
    # The image has no shell to look with; a throwaway container of the Debian image does.
    proc = subprocess.run(
        ["docker", "run", "--rm", "-v", f"{mount['Name']}:/data:ro", "debian:bookworm-slim", "stat", "-c", "%u:%g", "/data"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"{NONROOT}:{NONROOT}", proc.stdout


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_port_is_published_on_loopback_only(compose: Compose, service: str) -> None:
    proc = compose.run("port", service, str(50051 + SERVICE_NAMES.index(service)))
    published = proc.stdout.strip().splitlines()
    assert published, f"{service}: nothing published"
    for line in published:
        assert line.startswith("127.0.0.1:"), f"{service} is published on {line}"
