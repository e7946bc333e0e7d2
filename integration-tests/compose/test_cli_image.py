"""The `chatmesh` command's image (Dockerfile.multistage's `cli` target), as the README runs it:
with `docker compose run --rm cli ...` on the stack's network it checks health and asks the
stack's chatbot; on its own, `docker run -p ... <image> up` is the whole mesh in one container
on embedded stores. Like the service images it runs as the distroless nonroot user."""

from __future__ import annotations

import subprocess
import time

import pytest

from compose_stack import Compose, free_port, health_status

NONROOT = "65532"


@pytest.fixture(scope="module")
def cli_image(compose: Compose) -> str:
    image = compose.run("--profile", "tools", "config", "--images").stdout.split()
    (cli,) = [name for name in image if name.rsplit(":", 1)[0].endswith("-cli")]
    inspected = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Config.User}}", cli],
        capture_output=True, text=True, timeout=60,
    )
    assert inspected.returncode == 0, f"{cli} was not built (scripts/compose-test.sh builds it): {inspected.stderr}"
    assert inspected.stdout.strip().split(":")[0] == NONROOT, inspected.stdout
    return cli


def test_health_and_chat_from_the_stack_network(compose: Compose, mesh: dict[str, str], cli_image: str) -> None:
    health = compose.run("run", "--rm", "cli", "health", "--addr", "chatbot:50051", check=False, timeout=120)
    assert health.returncode == 0, f"{health.returncode}: {health.stdout} {health.stderr}"
    assert "SERVING" in health.stdout, health.stdout
    chat = compose.run("run", "--rm", "cli", "chat", "Who manages Alan Turing?", check=False, timeout=120)
    assert chat.returncode == 0, f"{chat.returncode}: {chat.stdout} {chat.stderr}"
    assert "Grace Hopper" in chat.stdout, chat.stdout
    down = compose.run("run", "--rm", "cli", "health", "--addr", "nothing-here:50051", "--timeout", "2s", check=False, timeout=120)
    assert down.returncode == 1, f"{down.returncode}: {down.stdout} {down.stderr}"


def test_the_whole_mesh_in_one_container(cli_image: str) -> None:
    port = free_port()
    name = f"chatmesh-up-{port}"
    run = subprocess.run(
        ["docker", "run", "-d", "--rm", "--name", name, "--read-only", "--tmpfs", "/data:uid=65532,gid=65532",
         "-p", f"127.0.0.1:{port}:50051", cli_image, "up"],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    try:
        addr = f"127.0.0.1:{port}"
        deadline, status = time.monotonic() + 120, ""
        while time.monotonic() < deadline and status != "SERVING":
            status = health_status(addr, "chatmesh.chat.v1.ChatService")
            time.sleep(0.5)
        logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True, timeout=60)
        assert status == "SERVING", f"{status}\n{logs.stdout}{logs.stderr}"
        chat = subprocess.run(
            ["docker", "run", "--rm", "--network", f"container:{name}", cli_image, "chat", "--addr", "127.0.0.1:50051",
             "What is the status of order 100001?"],
            capture_output=True, text=True, timeout=120,
        )
        assert chat.returncode == 0, f"{chat.returncode}: {chat.stdout} {chat.stderr}"
        assert "100001" in chat.stdout, chat.stdout
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60)
