"""Containers going away and coming back: a backend restarted under write traffic recovers on
the client's same channel; `docker compose restart` keeps every acknowledged write (the stores
live on named volumes); `docker compose stop` ends every service by SIGTERM, exit code 0, never
by the SIGKILL that follows the 10 s grace."""

from __future__ import annotations

from collections import Counter
import threading
import time
import uuid

import grpc
import pytest

from compose_stack import DATA_SERVICES, DEFAULT_PORTS, Compose, wait_serving
from stores import demo_people, read, write

# What a client may see while a server drains, is down, or is starting: nothing else.
RESTART_CODES = {"UNAVAILABLE", "DEADLINE_EXCEEDED"}
LIVENESS_BOUND_S = 90.0  # not a speed check: only "it never came back" fails on it


class WriteTraffic(threading.Thread):
    """Writes to one data service back to back until stopped; remembers what was acknowledged
    and which status codes the failures had."""

    def __init__(self, stubs, service: str) -> None:
        super().__init__(daemon=True)
        self.stubs, self.service = stubs, service
        self.acked: list[tuple[object, str]] = []
        self.failures: list[str] = []
        self.error: BaseException | None = None
        self._halt = threading.Event()
        self._lock = threading.Lock()

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                key = f"restart-{self.service}-{uuid.uuid4().hex[:10]}"
                try:
                    handle = write(self.stubs, self.service, key, timeout=3.0)
                except grpc.RpcError as err:
                    with self._lock:
                        self.failures.append(err.code().name)
                    time.sleep(0.05)
                    continue
                with self._lock:
                    self.acked.append((handle, key))
        except BaseException as exc:  # surfaced by the test, not lost in the thread
            self.error = exc

    def acked_count(self) -> int:
        with self._lock:
            return len(self.acked)

    def wait_acked(self, count: int, what: str) -> None:
        deadline = time.monotonic() + LIVENESS_BOUND_S
        while self.acked_count() < count:
            assert self.error is None, f"writer crashed: {self.error!r}"
            assert time.monotonic() < deadline, (
                f"{self.service}: {what}: {self.acked_count()} of {count} writes acknowledged; "
                f"failures so far: {self.failures[-10:]}"
            )
            time.sleep(0.05)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=30)


@pytest.mark.parametrize("service", DATA_SERVICES)
def test_backend_restart_mid_traffic_recovers(compose: Compose, mesh: dict[str, str], stubs, service: str) -> None:
    traffic = WriteTraffic(stubs, service)
    traffic.start()
    try:
        traffic.wait_acked(10, "before the restart")
        before = traffic.acked_count()
        compose.run("restart", service)
        wait_serving({service: mesh[service]}, timeout=LIVENESS_BOUND_S)
        # Recovery: the same client, on the same channel, gets writes through again.
        traffic.wait_acked(before + 10, "after the restart")
    finally:
        traffic.stop()
    assert traffic.error is None, repr(traffic.error)
    unexpected = sorted(set(traffic.failures) - RESTART_CODES)
    assert not unexpected, f"{service}: failures other than {sorted(RESTART_CODES)}: {traffic.failures}"
    lost = [key for handle, key in traffic.acked if read(stubs, service, handle) != key]
    assert not lost, f"{service}: {len(lost)} of {len(traffic.acked)} acknowledged writes are gone: {lost[:5]}"
    print(f"\n{service}: {len(traffic.acked)} writes acknowledged, all read back; failed meanwhile: {dict(Counter(traffic.failures))}")


def test_compose_restart_keeps_every_acknowledged_write(compose: Compose, mesh: dict[str, str], stubs) -> None:
    written = {
        service: [(write(stubs, service, key), key) for key in (f"kept-{service}-{i}-{uuid.uuid4().hex[:6]}" for i in range(20))]
        for service in DATA_SERVICES
    }
    people_before = demo_people(stubs)

    compose.run("restart")
    wait_serving(mesh, timeout=LIVENESS_BOUND_S)

    for service, records in written.items():
        lost = [key for handle, key in records if read(stubs, service, handle) != key]
        assert not lost, f"{service}: acknowledged writes lost across `docker compose restart`: {lost}"
    # The demo data is seeded once: a restart neither loses nor duplicates it.
    assert demo_people(stubs) == people_before


def test_stop_is_sigterm_and_exit_zero(compose: Compose, mesh: dict[str, str]) -> None:
    """Every service handles SIGTERM: `docker compose stop` sends it and waits up to 10 s before
    SIGKILL. A killed container exits 137; a service that drained and stopped exits 0."""
    seconds = compose.timed("stop", timeout=120)
    try:
        for service in DEFAULT_PORTS:
            state = compose.inspect(service).state
            assert not state["Running"], f"{service} still running after stop: {state}"
            assert state["ExitCode"] == 0, (
                f"{service} exited {state['ExitCode']} on `docker compose stop` (137 = killed after "
                f"the grace period); the stop took {seconds:.1f} s"
            )
            assert not state["OOMKilled"], state
        print(f"\ndocker compose stop (five services): {seconds:.2f} s")
    finally:
        compose.run("up", "-d", "--wait", timeout=300)
        wait_serving(mesh, timeout=LIVENESS_BOUND_S)
