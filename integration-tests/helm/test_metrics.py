"""Prometheus on Kubernetes (issue #19, item 1): every service serves GET /metrics on its gRPC
port. The chart annotates the pods for annotation-based scraping (on by default), renders a
PodMonitor or a ServiceMonitor per service on request (Prometheus Operator CRDs, so never by
default: the Kubernetes schemas do not know them), and networkPolicy.metricsFrom lets the
scraper through the default-deny policies (see test_network_policy.py)."""

from __future__ import annotations

import pytest

from chart import (
    COMPONENTS,
    Rendered,
    helm,
    name,
    render,
    selector_matches,
    template_args,
)

COMPONENT_IDS = [c.name for c in COMPONENTS]
MONITORS = ("PodMonitor", "ServiceMonitor")


def _pod_labels(r: Rendered, component: str) -> dict[str, str]:
    return r.workload(component)["spec"]["template"]["metadata"]["labels"]


def _grpc_port(r: Rendered, component: str) -> int:
    (port,) = [p["containerPort"] for p in r.container(component)["ports"] if p["name"] == "grpc"]
    return port


@pytest.mark.parametrize("component", COMPONENT_IDS)
def test_scrape_annotations_point_at_the_grpc_port(rendered: Rendered, component: str) -> None:
    ann = rendered.workload(component)["spec"]["template"]["metadata"]["annotations"]
    assert ann["prometheus.io/scrape"] == "true"
    assert ann["prometheus.io/path"] == "/metrics"
    port = _grpc_port(rendered, component)
    assert ann["prometheus.io/port"] == str(port)
    assert rendered.get("Service", name(component))["spec"]["ports"][0]["port"] == port
    assert "prometheus.io/scheme" not in ann, "plain HTTP without TLS"


def test_scrape_annotations_follow_ports_tls_and_can_be_turned_off() -> None:
    moved = render(sets=["graph.port=6000"])
    assert moved.workload("graph")["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == "6000"
    tls = render(sets=["tls.enabled=true", "tls.secretName=chatmesh-tls"])
    for comp in COMPONENT_IDS:
        assert tls.workload(comp)["spec"]["template"]["metadata"]["annotations"]["prometheus.io/scheme"] == "https"
    off = render(sets=["metrics.annotations=false", "router.podAnnotations.team=mesh"])
    for comp in COMPONENT_IDS:
        ann = off.workload(comp)["spec"]["template"]["metadata"]["annotations"]
        assert not [k for k in ann if k.startswith("prometheus.io/")], (comp, ann)
    assert off.workload("router")["spec"]["template"]["metadata"]["annotations"]["team"] == "mesh"


def test_no_monitors_in_any_values_file(rendered: Rendered) -> None:
    for kind in MONITORS:
        assert rendered.of_kind(kind) == [], f"{rendered.label}: {kind} needs the Prometheus Operator's CRDs"


@pytest.fixture(scope="module", params=MONITORS)
def monitors(request: pytest.FixtureRequest) -> tuple[str, Rendered]:
    key = "podMonitor" if request.param == "PodMonitor" else "serviceMonitor"
    return request.param, render(sets=[
        f"metrics.{key}.enabled=true",
        f"metrics.{key}.labels.release=kube-prometheus-stack",
        f"metrics.{key}.interval=15s",
        f"metrics.{key}.scrapeTimeout=5s",
    ])


@pytest.mark.parametrize("component", COMPONENT_IDS)
def test_monitor_shape(monitors: tuple[str, Rendered], component: str) -> None:
    kind, r = monitors
    (other,) = set(MONITORS) - {kind}
    assert r.of_kind(other) == []
    mon = r.get(kind, name(component))
    assert mon["apiVersion"] == "monitoring.coreos.com/v1"
    assert mon["metadata"]["labels"]["release"] == "kube-prometheus-stack", "the label a Prometheus selects monitors by"
    assert mon["metadata"]["labels"]["app.kubernetes.io/component"] == component
    assert set(mon["spec"]) == {"selector", "podMetricsEndpoints" if kind == "PodMonitor" else "endpoints"}
    (endpoint,) = mon["spec"]["podMetricsEndpoints" if kind == "PodMonitor" else "endpoints"]
    assert endpoint == {"port": "grpc", "path": "/metrics", "interval": "15s", "scrapeTimeout": "5s"}
    selector = mon["spec"]["selector"]
    if kind == "PodMonitor":
        # Selects this component's pods, whose container names the port "grpc".
        assert selector_matches(selector, _pod_labels(r, component))
        for o in COMPONENT_IDS:
            if o != component:
                assert not selector_matches(selector, _pod_labels(r, o)), f"{component}'s PodMonitor selects {o}"
        assert _grpc_port(r, component) == COMPONENTS[COMPONENT_IDS.index(component)].port
    else:
        # Selects this component's ClusterIP Service only (not the headless one: no pod scraped
        # twice), whose port "grpc" leads to the container's port "grpc".
        chosen = [s["metadata"]["name"] for s in r.of_kind("Service") if selector_matches(selector, s["metadata"]["labels"])]
        assert chosen == [name(component)], chosen
        (svc_port,) = r.get("Service", name(component))["spec"]["ports"]
        assert svc_port["name"] == "grpc" and svc_port["targetPort"] == "grpc"


def test_monitors_under_mtls_present_a_client_certificate() -> None:
    r = render(sets=[
        "tls.enabled=true", "tls.secretName=chatmesh-tls", "metrics.podMonitor.enabled=true",
        "metrics.tlsConfig.ca.secret.name=prometheus-chatmesh", "metrics.tlsConfig.ca.secret.key=ca.pem",
        "metrics.tlsConfig.cert.secret.name=prometheus-chatmesh", "metrics.tlsConfig.cert.secret.key=tls.crt",
        "metrics.tlsConfig.keySecret.name=prometheus-chatmesh", "metrics.tlsConfig.keySecret.key=tls.key",
    ])
    for comp in COMPONENT_IDS:
        (endpoint,) = r.get("PodMonitor", name(comp))["spec"]["podMetricsEndpoints"]
        assert endpoint["scheme"] == "https"
        tls = endpoint["tlsConfig"]
        # The service's certificate names the service, not its DNS name.
        assert tls["serverName"] == comp
        assert tls["keySecret"] == {"name": "prometheus-chatmesh", "key": "tls.key"}
        assert tls["cert"]["secret"]["key"] == "tls.crt" and tls["ca"]["secret"]["key"] == "ca.pem"


def test_both_monitors_are_refused() -> None:
    proc = helm(*template_args(sets=["metrics.podMonitor.enabled=true", "metrics.serviceMonitor.enabled=true"]), check=False)
    assert proc.returncode != 0
    assert "metrics.podMonitor.enabled" in proc.stderr and "twice" in proc.stderr, proc.stderr

