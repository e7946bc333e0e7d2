"""`/metrics` of every service of a running `chatmesh up`, read by Prometheus' own Python
parser (prometheus_client): the text must parse, and the families dashboards query must be
there with the labels they group by: chatmesh's own, go-grpc-prometheus' gRPC server family
(`grpc_server_handled_total`, `grpc_server_handling_seconds`), the process collector's and
`chatmesh_build_info`."""

from __future__ import annotations

import urllib.error
import urllib.request

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from chatmesh_external import CHANNEL_OPTIONS, SERVICES, SERVICE_IDS, Service

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError as exc:  # pragma: no cover - the venv from install-tools.sh has it
    raise ImportError(f"{exc}: run scripts/install-tools.sh and .tools/venv/bin/pytest") from exc


def _scrape(addr: str) -> dict[str, list]:
    with urllib.request.urlopen(f"http://{addr}/metrics", timeout=10) as answer:
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = answer.read().decode("utf-8")
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


@pytest.mark.parametrize("svc", SERVICES, ids=SERVICE_IDS)
def test_metrics_parse_and_carry_the_families_dashboards_use(mesh: dict[str, str], svc: Service) -> None:
    addr = mesh[svc.name]
    with grpc.insecure_channel(addr, options=CHANNEL_OPTIONS) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for _ in range(3):
            stub.Check(health_pb2.HealthCheckRequest(service=svc.fqn), timeout=10)
        with pytest.raises(grpc.RpcError) as refused:
            stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=10)
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND

    families = _scrape(addr)

    def samples(family: str, name: str, **labels: str) -> list:
        return [
            s
            for s in families.get(family, [])
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        ]

    check = {"grpc_service": "grpc.health.v1.Health", "grpc_method": "Check", "grpc_type": "unary"}
    ok = samples("grpc_server_handled", "grpc_server_handled_total", grpc_code="OK", **check)
    assert ok and ok[0].value >= 3, families.get("grpc_server_handled")
    not_found = samples("grpc_server_handled", "grpc_server_handled_total", grpc_code="NotFound", **check)
    assert not_found and not_found[0].value >= 1
    count = samples("grpc_server_handling_seconds", "grpc_server_handling_seconds_count", grpc_code="OK", **check)
    inf = samples("grpc_server_handling_seconds", "grpc_server_handling_seconds_bucket", grpc_code="OK", le="+Inf", **check)
    assert count and inf and count[0].value == inf[0].value >= 3

    mine = samples(
        "chatmesh_rpc_requests",
        "chatmesh_rpc_requests_total",
        service="grpc.health.v1.Health",
        method="Check",
        code="OK",
    )
    assert mine and mine[0].value == ok[0].value

    build = samples("chatmesh_build_info", "chatmesh_build_info", service=svc.name)
    assert build and build[0].value == 1 and build[0].labels["version"]

    for family in ("process_resident_memory_bytes", "process_start_time_seconds", "process_open_fds"):
        values = samples(family, family)
        assert values and values[0].value > 0, f"{family}: {families.get(family)}"
    cpu = samples("process_cpu_seconds", "process_cpu_seconds_total")
    assert cpu and cpu[0].value > 0


def test_http_requests_get_latency_histograms_by_route(mesh: dict[str, str]) -> None:
    addr = mesh["chatbot"]
    body = b'{"session_id": "metrics", "message": "how do I reset my password?"}'
    request = urllib.request.Request(
        f"http://{addr}/v1/chat", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200, answer.read()
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"http://{addr}/no/such/page", timeout=10)
    assert missing.value.code == 404
    _scrape(addr)  # so that the next scrape shows the previous one under route="/metrics"
    families = _scrape(addr)
    samples = families.get("chatmesh_http_request_duration_seconds", [])

    def count(route: str, method: str, cls: str) -> float:
        wanted = {"route": route, "method": method, "class": cls}
        found = [
            s.value
            for s in samples
            if s.name == "chatmesh_http_request_duration_seconds_count"
            and all(s.labels.get(k) == v for k, v in wanted.items())
        ]
        return found[0] if found else 0

    assert count("/v1/chat", "POST", "2xx") >= 1, samples
    assert count("unmatched", "GET", "4xx") >= 1, samples
    assert count("/metrics", "GET", "2xx") >= 1, samples
    # The raw path never becomes a label.
    assert not [s for s in samples if s.labels.get("route") == "/no/such/page"]
