"""Fixtures for the chatbot's web suite: the five service binaries (target/debug, or
CHATMESH_BIN_DIR) as separate processes on loopback with the demo data, the chatbot's base
URL, and headless Chromium (Debian's chromium + chromium-driver, driven by selenium). Each
process listens on 127.0.0.1:0 and logs JSON; its address is read from the line it logs when it
starts serving."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service as DriverService

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = Path(os.environ.get("CHATMESH_BIN_DIR", REPO_ROOT / "target" / "debug"))


class Service:
    def __init__(self, name: str, args: list[str], log_dir: Path):
        binary = BIN_DIR / f"chatmesh-{name}"
        if not binary.is_file():
            pytest.fail(f"{binary} is missing: run `cargo build --workspace --bins` first")
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.proc = subprocess.Popen(
            [str(binary), "--listen", "127.0.0.1:0", "--log-format", "json", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.addr: str | None = None
        found = threading.Event()

        def pump() -> None:
            with open(self.log_path, "w") as log:
                for line in self.proc.stderr:
                    log.write(line)
                    log.flush()
                    if self.addr is None:
                        try:
                            event = json.loads(line)
                        except ValueError:
                            continue
                        if str(event.get("message", "")).startswith("serving ") and "addr" in event:
                            self.addr = event["addr"]
                            found.set()

        threading.Thread(target=pump, daemon=True).start()
        if not found.wait(30):
            self.stop()
            pytest.fail(f"chatmesh-{name} did not start serving; see {self.log_path}")

    @property
    def url(self) -> str:
        return f"http://{self.addr}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def mesh(tmp_path_factory):
    """The four services behind the chatbot, and the chatbot: {"router": url, "chatbot": url,
    "data": the folder of their data and logs}."""
    data = tmp_path_factory.mktemp("mesh")
    started: list[Service] = []
    try:
        graph = Service("graph", ["--data-dir", str(data / "graph"), "--seed-demo"], data)
        started.append(graph)
        vector = Service("vector", ["--data-dir", str(data / "vector"), "--seed-demo"], data)
        started.append(vector)
        relational = Service(
            "relational", ["--database-url", f"sqlite://{data}/relational.db", "--seed-demo"], data
        )
        started.append(relational)
        router = Service(
            "router",
            ["--graph-addr", graph.url, "--vector-addr", vector.url, "--relational-addr", relational.url],
            data,
        )
        started.append(router)
        chatbot = Service("chatbot", ["--router-addr", router.url], data)
        started.append(chatbot)
        wait_answering(chatbot.url)
        yield {"router": router.url, "chatbot": chatbot.url, "data": data}
    finally:
        for service in reversed(started):
            service.stop()


@pytest.fixture(scope="session")
def chatbot_url(mesh) -> str:
    return mesh["chatbot"]


SECURED_TOKEN = "web-page-token-3f9c2a"


@pytest.fixture(scope="session")
def secured_chatbot_url(mesh) -> str:
    """A second chatbot on the same router that asks users for a bearer token (SECURED_TOKEN)."""
    tokens = mesh["data"] / "users"
    tokens.write_text(SECURED_TOKEN + "\n")
    log_dir = mesh["data"] / "secured"
    log_dir.mkdir()
    chatbot = Service(
        "chatbot", ["--router-addr", mesh["router"], "--auth-tokens-file", str(tokens)], log_dir
    )
    try:
        wait_answering(chatbot.url, token=SECURED_TOKEN)
        yield chatbot.url
    finally:
        chatbot.stop()


def wait_answering(url: str, limit: float = 30.0, token: str | None = None) -> None:
    """Waits until a graph question gets a non-fallback answer (every backend has loaded)."""
    deadline = time.monotonic() + limit
    body = json.dumps({"session_id": "warm-up", "message": "who manages Alan Turing?"}).encode()
    last = None
    while time.monotonic() < deadline:
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        request = urllib.request.Request(f"{url}/v1/chat", data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                last = json.load(response)
                if not last.get("fallback"):
                    return
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    pytest.fail(f"the mesh did not answer within {limit}s: {last}")


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.fail("chromium and chromium-driver are needed: run scripts/install-tools.sh")
    options = Options()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=DriverService(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()
