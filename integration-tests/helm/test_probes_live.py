"""The probes as declared, against the real services.

Render the chart, read each workload's gRPC probes (port and `service:`) and its environment
(ConfigMap + env), run the matching `chatmesh-<service>` binary with that environment on
127.0.0.1:<probe port> (data under a temporary directory instead of the volume, and the
Service host names of the addresses it dials replaced by 127.0.0.1), then ask exactly what the
kubelet would ask: grpc.health.v1.Health/Check for the declared service, within the declared
timeout, expecting SERVING. Finally SIGTERM: health must turn NOT_SERVING while the chart's
drain delay runs, and the process must exit 0 within terminationGracePeriodSeconds. Before that,
the pod's prometheus.io/* annotations are followed as Prometheus would: GET /metrics on the
annotated port answers Prometheus text.

Ports are the chart's (50051-50055); on a machine where they are taken, set
CHATMESH_HELM_LIVE_PORT_SHIFT=N to render the chart with every port moved by N.
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from chart import COMPONENTS, REPO_ROOT, Rendered, render

try:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc
except ImportError as exc:
    raise ImportError(f"{exc}; run scripts/install-tools.sh and use .tools/venv/bin/pytest") from exc

HOST = "127.0.0.1"
CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0)]
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
# Environment the chart does not set and the binaries must not inherit from the test runner.
FOREIGN_ENV = re.compile(r"^(CHATMESH_|OTEL_)|proxy", re.IGNORECASE)


def bin_dir() -> Path:
    raw = os.environ.get("CHATMESH_BIN_DIR", "").strip() or "target/debug"
    p = Path(raw)
    return p if p.is_absolute() else REPO_ROOT / p


def port_shift() -> int:
    raw = os.environ.get("CHATMESH_HELM_LIVE_PORT_SHIFT", "").strip()
    return int(raw) if raw else 0


@dataclass
class Running:
    component: str
    port: int
    probes: dict[str, dict]
    proc: subprocess.Popen
    cmd: list[str]
    env: dict[str, str]
    stdout: Path
    stderr: Path
    drain_s: int
    termination_grace_s: int
    annotations: dict[str, str]

    def logs(self) -> str:
        def tail(p: Path) -> str:
            text = p.read_text(errors="replace") if p.exists() else ""
            return text[-4000:]
        return f"--- {self.component} stderr ---\n{tail(self.stderr)}\n--- {self.component} stdout ---\n{tail(self.stdout)}"


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def _check(port: int, service: str, timeout: float) -> str:
    with grpc.insecure_channel(f"{HOST}:{port}", options=CHANNEL_OPTIONS) as ch:
        try:
            resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError as err:
            return f"rpc error {err.code().name}"
    return health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)


def _declared(r: Rendered, component: str) -> tuple[int, dict[str, dict]]:
    c = r.container(component)
    probes = {k: c[k] for k in PROBES}
    ports = {p["grpc"]["port"] for p in probes.values()}
    assert len(ports) == 1, f"{component}: probes on different ports {ports}"
    return ports.pop(), probes


def _local_env(r: Rendered, component: str, work: Path) -> dict[str, str]:
    """The container's environment as the chart declares it, mapped onto this machine."""
    env: dict[str, str] = {}
    services = {s["metadata"]["name"] for s in r.of_kind("Service")}
    for key, value in r.env(component).items():
        assert isinstance(value, str), f"{component}: {key} comes from a Secret ({value}); the default values need none"
        if key == "CHATMESH_LISTEN":
            continue  # replaced by --listen 127.0.0.1:<probe port>
        if key == "CHATMESH_DATA_DIR":
            assert value == "/data", value
            value = str(work / "data")
        elif key == "CHATMESH_DATABASE_URL":
            assert value.startswith("sqlite:///data/"), value
            value = "sqlite://" + str(work / "data") + value[len("sqlite:///data"):]
        elif re.fullmatch(r"CHATMESH_[A-Z]+_ADDR", key):
            m = re.fullmatch(r"http://([a-z0-9.-]+):(\d+)", value)
            assert m and m.group(1) in services, f"{component}: {key}={value} does not name a Service of the chart"
            value = f"http://{HOST}:{m.group(2)}"
        env[key] = value
    return env


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory):
    shift = port_shift()
    sets = [f"{c.name}.port={c.port + shift}" for c in COMPONENTS] if shift else []
    r = render(sets=sets)
    base_env = {k: v for k, v in os.environ.items() if not FOREIGN_ENV.search(k)}
    base_env["NO_PROXY"] = base_env["no_proxy"] = "127.0.0.1,localhost"

    plan = []
    for comp in COMPONENTS:
        binary = bin_dir() / f"chatmesh-{comp.name}"
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            pytest.fail(f"{binary} not found: build the services (cargo build --workspace) or set CHATMESH_BIN_DIR", pytrace=False)
        port, probes = _declared(r, comp.name)
        if not _port_free(port):
            pytest.fail(f"{HOST}:{port} (the chart's {comp.name} port) is in use; stop what listens there "
                        "or set CHATMESH_HELM_LIVE_PORT_SHIFT", pytrace=False)
        work = tmp_path_factory.mktemp(comp.name)
        (work / "data").mkdir()  # the volume, empty as a new claim is
        (work / "tmp").mkdir()  # the /tmp emptyDir
        env = {**base_env, **_local_env(r, comp.name, work), "TMPDIR": str(work / "tmp")}
        template = r.workload(comp.name)["spec"]["template"]
        spec = template["spec"]
        plan.append((comp.name, binary, port, probes, env, work, spec["terminationGracePeriodSeconds"], template["metadata"]["annotations"]))

    running: dict[str, Running] = {}
    try:
        for component, binary, port, probes, env, work, tgps, annotations in plan:
            cmd = [str(binary), "--listen", f"{HOST}:{port}"]
            out, err = work / "stdout.log", work / "stderr.log"
            with open(out, "wb") as o, open(err, "wb") as e:
                proc = subprocess.Popen(cmd, env=env, cwd=work, stdin=subprocess.DEVNULL, stdout=o, stderr=e)
            drain = int(env["CHATMESH_DRAIN_DELAY"].removesuffix("s"))
            running[component] = Running(component, port, probes, proc, cmd, env, out, err, drain, tgps, annotations)

        # Ready within the start-up probe's budget, as the kubelet would require.
        for run in running.values():
            sp = run.probes["startupProbe"]
            deadline = time.monotonic() + sp["periodSeconds"] * sp["failureThreshold"]
            service = sp["grpc"].get("service", "")
            while True:
                rc = run.proc.poll()
                assert rc is None, f"{run.component} exited with {rc} at start-up: {' '.join(run.cmd)}\n{run.logs()}"
                status = _check(run.port, service, sp["timeoutSeconds"])
                if status == "SERVING":
                    break
                # A server that is up but does not know the name never will (every service
                # registers its names before it listens): no point waiting out the budget.
                if status == "rpc error NOT_FOUND" and _check(run.port, "", sp["timeoutSeconds"]) == "SERVING":
                    pytest.fail(f"{run.component}: the start-up probe's service {service!r} is unknown to the server "
                                f"(NOT_FOUND) while it is SERVING overall\n{run.logs()}", pytrace=False)
                assert time.monotonic() < deadline, f"{run.component}: start-up probe still {status}\n{run.logs()}"
                time.sleep(min(0.2, sp["periodSeconds"]))
        yield running
    finally:
        for run in running.values():
            if run.proc.poll() is None:
                run.proc.kill()
                run.proc.wait()


@pytest.mark.parametrize("component", [c.name for c in COMPONENTS])
def test_declared_probes_are_serving(mesh: dict[str, Running], component: str) -> None:
    run = mesh[component]
    for kind, probe in run.probes.items():
        service = probe["grpc"].get("service", "")
        status = _check(run.port, service, float(probe["timeoutSeconds"]))
        assert status == "SERVING", f"{component} {kind}: Check(service={service!r}) on :{run.port} -> {status}\n{run.logs()}"


@pytest.mark.parametrize("component", [c.name for c in COMPONENTS])
def test_a_wrong_service_name_would_fail_the_probe(mesh: dict[str, Running], component: str) -> None:
    """The check is discriminating: a name the service does not report is NOT_FOUND, so a typo
    in the chart's `service:` would keep the pod unready."""
    run = mesh[component]
    declared = run.probes["readinessProbe"]["grpc"]["service"]
    status = _check(run.port, declared + "X", 3.0)
    assert status == "rpc error NOT_FOUND", status


@pytest.mark.parametrize("component", [c.name for c in COMPONENTS])
def test_chart_log_format_is_honoured(mesh: dict[str, Running], component: str) -> None:
    run = mesh[component]
    assert run.env["CHATMESH_LOG_FORMAT"] == "json"
    lines = [ln for p in (run.stdout, run.stderr) for ln in p.read_text(errors="replace").splitlines() if ln.strip()]
    assert lines, f"{component} logged nothing"
    for ln in lines:
        try:
            json.loads(ln)
        except ValueError:
            pytest.fail(f"{component}: a log line is not JSON although the chart sets json: {ln!r}")


def test_router_and_chatbot_dial_the_chart_services(mesh: dict[str, Running]) -> None:
    """The addresses the binaries were given are the ports the other binaries serve on (the
    host names were checked against the chart's Services in _local_env)."""
    ports = {c: run.port for c, run in mesh.items()}
    assert mesh["chatbot"].env["CHATMESH_ROUTER_ADDR"] == f"http://{HOST}:{ports['router']}"
    for b in ("graph", "vector", "relational"):
        assert mesh["router"].env[f"CHATMESH_{b.upper()}_ADDR"] == f"http://{HOST}:{ports[b]}"


@pytest.mark.parametrize("component", [c.name for c in COMPONENTS])
def test_scrape_annotations_lead_to_prometheus_text(mesh: dict[str, Running], component: str) -> None:
    """What an annotation-based Prometheus job does with the pod: GET <path> on <port>."""
    run = mesh[component]
    ann = run.annotations
    assert ann["prometheus.io/scrape"] == "true"
    port = int(ann["prometheus.io/port"])
    assert port == run.port, f"{component}: annotated port {port}, probes on {run.port}"
    url = f"http://{HOST}:{port}{ann['prometheus.io/path']}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=5) as resp:
        status, ctype, body = resp.status, resp.headers.get("content-type", ""), resp.read().decode()
    assert status == 200, f"{url}: {status}"
    assert ctype.startswith("text/plain"), f"{url}: content-type {ctype!r}"
    assert "# TYPE " in body, f"{url}: not Prometheus text:\n{body[:500]}"


def test_sigterm_drains_then_exits_zero(mesh: dict[str, Running]) -> None:
    """What the kubelet does on pod deletion: SIGTERM, then SIGKILL after the grace period."""
    sent = time.monotonic()
    for run in mesh.values():
        run.proc.send_signal(signal.SIGTERM)
    for run in mesh.values():
        ready = run.probes["readinessProbe"]
        service = ready["grpc"]["service"]
        status = "?"
        # During the drain delay the listener stays open and readiness reports NOT_SERVING.
        while time.monotonic() - sent < run.drain_s:
            status = _check(run.port, service, 1.0)
            if status == "NOT_SERVING":
                break
            time.sleep(0.1)
        assert status == "NOT_SERVING", f"{run.component}: readiness during the drain delay was {status}\n{run.logs()}"
        assert run.proc.poll() is None, f"{run.component} exited before its {run.drain_s}s drain delay ended"
    for run in mesh.values():
        remaining = run.termination_grace_s - (time.monotonic() - sent)
        try:
            rc = run.proc.wait(timeout=max(remaining, 0.1))
        except subprocess.TimeoutExpired:
            pytest.fail(f"{run.component} still running {run.termination_grace_s}s after SIGTERM (it would be SIGKILLed)\n{run.logs()}")
        assert rc == 0, f"{run.component} exited {rc} after SIGTERM\n{run.logs()}"
    elapsed = time.monotonic() - sent
    assert elapsed >= min(r.drain_s for r in mesh.values()), f"all exited after {elapsed:.1f}s, before the drain delay"

