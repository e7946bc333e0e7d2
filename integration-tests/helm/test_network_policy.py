"""The NetworkPolicies, evaluated with the semantics of networking.k8s.io/v1 over the rendered
objects: deny all, then only clients -> chatbot -> router -> each backend, DNS, and the OTLP
collector, Prometheus (networkPolicy.metricsFrom) and the external engines (session store,
PostgreSQL, pgvector, the Bolt server) only when configured, each for the services that use it."""

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
PROMETHEUS = pod("Prometheus", "10.244.6.6", "monitoring", {"app.kubernetes.io/name": "prometheus"})
OTHER_MONITORING_POD = pod("another pod in monitoring", "10.244.6.7", "monitoring", {"app.kubernetes.io/name": "grafana"})
NEO4J = pod("Neo4j", "10.244.7.7", "neo4j", {"app.kubernetes.io/name": "neo4j"})
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
    """values-production.yaml: relational reaches its PostgreSQL and the chatbot its session
    store (the same address range), nobody else, and only on 5432."""
    pols = Policies(production)
    pods = chart_pods(production)
    for user in ("relational", "chatbot"):
        assert pols.egress_allows(pods[user], POSTGRES, 5432), user
        assert not pols.egress_allows(pods[user], INTERNET, 5432), f"{user}: database egress must stay in its ipBlock"
        assert not pols.egress_allows(pods[user], POSTGRES, 5433), user
    for other in ("router", "graph", "vector"):
        assert not pols.egress_allows(pods[other], POSTGRES, 5432), other
    dpols = Policies(default)
    for comp, p in chart_pods(default).items():
        assert not dpols.egress_allows(p, POSTGRES, 5432), comp


# Which engine each service of values-scale.yaml may reach, and on which port.
SCALE_ENGINES = {"chatbot": (POSTGRES, 5432), "relational": (POSTGRES, 5432), "vector": (POSTGRES, 5432), "graph": (NEO4J, 7687)}


def test_each_service_reaches_only_its_own_engine(scale: Rendered) -> None:
    pols = Policies(scale)
    pods = chart_pods(scale)
    for comp, p in pods.items():
        for engine, port in set(SCALE_ENGINES.values()):
            allowed = pols.egress_allows(p, engine, port)
            assert allowed == (SCALE_ENGINES.get(comp) == (engine, port)), f"{comp} -> {engine}:{port} allowed={allowed}"
    # The Bolt server's peers are one namespace's pods: not any pod on 7687, not the internet.
    assert not pols.egress_allows(pods["graph"], STRANGER_OTHER_NS, 7687)
    assert not pols.egress_allows(pods["graph"], INTERNET, 7687)
    assert not pols.egress_allows(pods["graph"], NEO4J, 7474), "only the Bolt port"


def test_engine_egress_without_peers_is_port_only() -> None:
    """An engine without `to` peers: any destination, on its port only."""
    r = render(sets=[
        "graph.external.enabled=true", "graph.external.url=bolt://graph.example:7688", "graph.external.port=7688",
        "vector.external.enabled=true", "secret.vectorDatabaseUrl=postgres://v@pg.example:6432/v", "vector.external.port=6432",
        "sessions.enabled=true", "secret.sessionUrl=postgres://s@pg.example:5432/s",
    ])
    pols = Policies(r)
    pods = chart_pods(r)
    assert pols.egress_allows(pods["graph"], INTERNET, 7688) and not pols.egress_allows(pods["graph"], INTERNET, 7687)
    assert pols.egress_allows(pods["vector"], INTERNET, 6432) and not pols.egress_allows(pods["vector"], INTERNET, 5432)
    assert pols.egress_allows(pods["chatbot"], INTERNET, 5432) and not pols.egress_allows(pods["chatbot"], INTERNET, 6432)
    assert not pols.egress_allows(pods["relational"], INTERNET, 5432)
    assert not pols.egress_allows(pods["router"], INTERNET, 5432)


@pytest.mark.parametrize("component", [c.name for c in COMPONENTS])
def test_metrics_from_reaches_every_service_port(production: Rendered, scale: Rendered, component: str) -> None:
    """networkPolicy.metricsFrom (Prometheus in "monitoring") is admitted by each service's
    policy on that service's port (where GET /metrics is served), and on nothing else; other
    pods of the monitoring namespace are not."""
    port = BY_NAME[component].port
    for r in (production, scale):
        pols = Policies(r)
        dst = chart_pods(r)[component]
        assert pols.ingress_allows(PROMETHEUS, dst, port), f"{r.label}: Prometheus cannot scrape {component}:{port}"
        assert not pols.ingress_allows(PROMETHEUS, dst, port + 1), f"{r.label}: Prometheus reaches {component} beyond its port"
        assert not pols.ingress_allows(PROMETHEUS, dst, port, "UDP")
        assert not pols.ingress_allows(OTHER_MONITORING_POD, dst, port), f"{r.label}: metricsFrom admits more than Prometheus"
        rule = [ru for p in pols.selecting(dst, "Ingress") for ru in p["spec"].get("ingress") or []
                if any(peer.get("namespaceSelector") == {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}} for peer in ru.get("from", []))]
        assert [pt["port"] for ru in rule for pt in ru["ports"]] == [port], rule


def test_no_metrics_peers_by_default(default: Rendered) -> None:
    pols = Policies(default)
    for c in COMPONENTS:
        if c.name == "chatbot":
            continue  # the front door is open to anyone on its port by default
        assert not pols.ingress_allows(PROMETHEUS, chart_pods(default)[c.name], c.port), c


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
