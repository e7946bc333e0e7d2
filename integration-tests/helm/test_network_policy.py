"""The NetworkPolicies, evaluated with the semantics of networking.k8s.io/v1 over the rendered
objects: deny all, then only clients -> chatbot -> router -> each backend, DNS, and the OTLP
collector (and the external database) only when configured."""

from __future__ import annotations

import itertools

import pytest

from chart import (
    BACKENDS,
    BY_NAME,
    COMPONENTS,
    NAMESPACE,
    Endpoint,
    Policies,
    Rendered,
    chart_pods,
    external,
    fullname,
    pod,
    render,
)

# Things around the release, in and out of the cluster.
STRANGER_SAME_NS = pod("pod in the release's namespace", "10.244.1.5", NAMESPACE, {"app": "other"})
STRANGER_OTHER_NS = pod("pod in another namespace", "10.244.2.5", "other", {"app": "other"})
# A pod that copies chatmesh's name/instance labels but is no chatmesh component.
IMPOSTOR = pod("pod with the release's labels but no component", "10.244.1.6", NAMESPACE,
               {"app.kubernetes.io/name": "chatmesh", "app.kubernetes.io/instance": "t"})
OTHER_RELEASE_ROUTER = pod("router of another release", "10.244.1.7", NAMESPACE,
                           {"app.kubernetes.io/name": "chatmesh", "app.kubernetes.io/instance": "other",
                            "app.kubernetes.io/component": "router"})
INTERNET = external("internet address", "203.0.113.10")
KUBE_DNS = pod("kube-dns", "10.96.0.10", "kube-system", {"k8s-app": "kube-dns"})
COLLECTOR = pod("OTLP collector", "10.244.3.3", "observability", {"app.kubernetes.io/name": "opentelemetry-collector"})
INGRESS = pod("ingress controller", "10.244.4.4", "ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
POSTGRES = external("external PostgreSQL", "10.20.3.4")
STRANGERS = (STRANGER_SAME_NS, STRANGER_OTHER_NS, IMPOSTOR, OTHER_RELEASE_ROUTER, INTERNET, INGRESS)

# The flow the chart must allow, and nothing else between chatmesh pods.
FLOW = {("chatbot", "router")} | {("router", b.name) for b in BACKENDS}


def _everyone(rendered: Rendered) -> dict[str, Endpoint]:
    pods = chart_pods(rendered)
    return {**pods, **{e.label: e for e in STRANGERS}}


def test_default_deny_selects_every_chatmesh_pod(rendered: Rendered) -> None:
    deny = rendered.get("NetworkPolicy", f"{fullname()}-default-deny")["spec"]
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert not deny.get("ingress") and not deny.get("egress"), "the default-deny policy must have no rules"
    pols = Policies(rendered)
    for who, p in chart_pods(rendered).items():
        assert deny in [q["spec"] for q in pols.selecting(p, "Ingress")], who
        assert deny in [q["spec"] for q in pols.selecting(p, "Egress")], who
    # It does not reach beyond the release: other workloads in the namespace are left alone.
    assert not pols.selecting(STRANGER_SAME_NS, "Ingress")


@pytest.mark.parametrize("backend", [b.name for b in BACKENDS])
def test_backend_reachable_only_from_router(rendered: Rendered, backend: str) -> None:
    pols = Policies(rendered)
    everyone = _everyone(rendered)
    dst = everyone[backend]
    port = BY_NAME[backend].port
    allowed = {who for who, src in everyone.items() if who != backend and pols.allows(src, dst, port)}
    assert allowed == {"router"}, f"{backend}:{port} reachable from {sorted(allowed)}"
    # Ingress alone (whatever the source's own egress says) admits only the router, and only
    # on the gRPC port.
    admitted = {who for who, src in everyone.items() if pols.ingress_allows(src, dst, port)}
    assert admitted == {"router"}, admitted
    assert not pols.ingress_allows(everyone["router"], dst, 22)
    assert not pols.ingress_allows(everyone["router"], dst, port, "UDP")


def test_router_reachable_only_from_chatbot(rendered: Rendered) -> None:
    pols = Policies(rendered)
    everyone = _everyone(rendered)
    port = BY_NAME["router"].port
    allowed = {who for who, src in everyone.items() if who != "router" and pols.allows(src, everyone["router"], port)}
    assert allowed == {"chatbot"}, allowed


def test_chatbot_open_to_clients_on_its_port_only(default: Rendered) -> None:
    pols = Policies(default)
    everyone = _everyone(default)
    chatbot = everyone["chatbot"]
    for src in STRANGERS:
        assert pols.ingress_allows(src, chatbot, 50051), f"default values: {src} cannot reach the chatbot"
        assert not pols.ingress_allows(src, chatbot, 50052), f"{src} reaches a non-gRPC port of the chatbot"
    assert pols.allows(everyone["test"], chatbot, 50051), "the helm test pod cannot reach the chatbot"


def test_chatbot_restricted_to_configured_clients(production: Rendered) -> None:
    pols = Policies(production)
    everyone = _everyone(production)
    chatbot = everyone["chatbot"]
    allowed = {str(src) for src in STRANGERS if pols.ingress_allows(src, chatbot, 50051)}
    assert allowed == {str(INGRESS)}, allowed
    assert pols.allows(everyone["test"], chatbot, 50051), "the helm test pod cannot reach the chatbot"


def test_only_the_flow_between_chatmesh_pods(rendered: Rendered) -> None:
    pods = chart_pods(rendered)
    pols = Policies(rendered)
    ports = {c.name: c.port for c in COMPONENTS}
    for a, b in itertools.permutations([c.name for c in COMPONENTS], 2):
        ok = pols.allows(pods[a], pods[b], ports[b])
        assert ok == ((a, b) in FLOW), f"{a} -> {b}:{ports[b]} allowed={ok}"
    # The test pod talks to the chatbot only.
    for c in COMPONENTS:
        assert pols.allows(pods["test"], pods[c.name], c.port) == (c.name == "chatbot"), c


def test_egress_dns_for_every_pod(rendered: Rendered) -> None:
    pols = Policies(rendered)
    for who, p in chart_pods(rendered).items():
        for proto in ("UDP", "TCP"):
            assert pols.egress_allows(p, KUBE_DNS, 53, proto), f"{who}: no DNS over {proto}"
        assert not pols.egress_allows(p, KUBE_DNS, 80), f"{who}: reaches kube-dns beyond port 53"
        assert not pols.egress_allows(p, STRANGER_OTHER_NS, 53), f"{who}: DNS egress open to any pod"


def test_no_other_egress(rendered: Rendered) -> None:
    pols = Policies(rendered)
    for who, p in chart_pods(rendered).items():
        for dst, port in ((INTERNET, 443), (INTERNET, 80), (STRANGER_SAME_NS, 8080), (STRANGER_OTHER_NS, 50051), (POSTGRES, 6543)):
            assert not pols.egress_allows(p, dst, port), f"{who} -> {dst}:{port} allowed"


def test_otlp_egress_only_when_configured(default: Rendered, production: Rendered) -> None:
    assert default.maybe("NetworkPolicy", f"{fullname()}-allow-otlp") is None
    dpols = Policies(default)
    for who, p in chart_pods(default).items():
        assert not dpols.egress_allows(p, COLLECTOR, 4317), f"default values: {who} reaches a collector"
    ppols = Policies(production)
    for who, p in chart_pods(production).items():
        assert ppols.egress_allows(p, COLLECTOR, 4317), f"production: {who} cannot export to the collector"
        assert not ppols.egress_allows(p, COLLECTOR, 4318), f"production: {who} reaches the collector beyond its port"
        assert not ppols.egress_allows(p, INTERNET, 4317), f"production: {who} exports to any address"


def test_otlp_port_follows_endpoint() -> None:
    r = render(sets=["otel.endpoint=https://collector.example:4318/v1/traces"])
    pols = Policies(r)
    for who, p in chart_pods(r).items():
        assert pols.egress_allows(p, INTERNET, 4318), who  # no `to`: any destination on that port
        assert not pols.egress_allows(p, INTERNET, 4317), who


def test_external_database_egress_for_relational_only(default: Rendered, production: Rendered) -> None:
    pols = Policies(production)
    pods = chart_pods(production)
    assert pols.egress_allows(pods["relational"], POSTGRES, 5432)
    assert not pols.egress_allows(pods["relational"], INTERNET, 5432), "database egress must stay in its ipBlock"
    for other in ("chatbot", "router", "graph", "vector"):
        assert not pols.egress_allows(pods[other], POSTGRES, 5432), other
    dpols = Policies(default)
    assert not dpols.egress_allows(chart_pods(default)["relational"], POSTGRES, 5432)


def test_router_extra_clients() -> None:
    mcp_client = pod("MCP client", "10.244.5.5", "agents", {"app": "mcp-client"})
    r = render(sets=["networkPolicy.routerExtraFrom[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=agents"])
    pols = Policies(r)
    router = chart_pods(r)["router"]
    assert pols.ingress_allows(mcp_client, router, 50052)
    assert not pols.ingress_allows(STRANGER_OTHER_NS, router, 50052)
    for b in BACKENDS:
        assert not pols.ingress_allows(mcp_client, chart_pods(r)[b.name], b.port), b


def test_policies_can_be_turned_off() -> None:
    r = render(sets=["networkPolicy.enabled=false"])
    assert r.of_kind("NetworkPolicy") == []


def test_evaluator_sees_a_hole() -> None:
    """The evaluator is not vacuous: a rule admitting everyone to graph is caught."""
    r = render()
    graph_policy = r.get("NetworkPolicy", f"{fullname()}-graph")
    graph_policy["spec"]["ingress"].append({"ports": [{"protocol": "TCP", "port": 50053}]})
    pols = Policies(r)
    assert pols.ingress_allows(STRANGER_OTHER_NS, chart_pods(r)["graph"], 50053)
