"""The chatbot's public edge (issue #19, item 10): an optional Ingress and optional Gateway API
routes (GRPCRoute for gRPC, HTTPRoute for POST /v1/chat and the page), all aimed at the
chatbot's ClusterIP Service and its one port. Off by default; the route kinds come from CRDs,
so no values file turns them on (the Ingress is a core kind: test_lint_validate.py validates
its variants against the Kubernetes schemas)."""

from __future__ import annotations

import pytest

from chart import Rendered, helm, name, render, template_args

ROUTES = ("GRPCRoute", "HTTPRoute")
PARENT = ["gatewayApi.parentRefs[0].name=public", "gatewayApi.parentRefs[0].namespace=gateway-system"]


def _chatbot_service_port(r: Rendered) -> dict:
    (port,) = r.get("Service", name("chatbot"))["spec"]["ports"]
    return port


def test_off_in_every_values_file(rendered: Rendered) -> None:
    for kind in ("Ingress", *ROUTES):
        assert rendered.of_kind(kind) == [], f"{rendered.label}: {kind}"


def test_ingress_to_the_chatbot_port() -> None:
    r = render(sets=[
        "ingress.enabled=true", "ingress.className=nginx",
        "ingress.annotations.nginx\\.ingress\\.kubernetes\\.io/backend-protocol=GRPC",
        "ingress.hosts[0]=chat.example.com", "ingress.hosts[1]=chat.example.org",
        "ingress.tls[0].secretName=chat-tls", "ingress.tls[0].hosts[0]=chat.example.com",
    ])
    (ing,) = r.of_kind("Ingress")
    assert ing["apiVersion"] == "networking.k8s.io/v1" and ing["metadata"]["name"] == name("chatbot")
    assert ing["metadata"]["annotations"] == {"nginx.ingress.kubernetes.io/backend-protocol": "GRPC"}
    spec = ing["spec"]
    assert spec["ingressClassName"] == "nginx"
    assert spec["tls"] == [{"secretName": "chat-tls", "hosts": ["chat.example.com"]}]
    assert [rule["host"] for rule in spec["rules"]] == ["chat.example.com", "chat.example.org"]
    svc_port = _chatbot_service_port(r)
    for rule in spec["rules"]:
        (path,) = rule["http"]["paths"]
        assert path["path"] == "/" and path["pathType"] == "Prefix"
        assert path["backend"] == {"service": {"name": name("chatbot"), "port": {"name": svc_port["name"]}}}


def test_ingress_without_hosts_serves_any_host() -> None:
    r = render(sets=["ingress.enabled=true"])
    (ing,) = r.of_kind("Ingress")
    (rule,) = ing["spec"]["rules"]
    assert "host" not in rule
    assert "ingressClassName" not in ing["spec"] and "tls" not in ing["spec"]


@pytest.fixture(scope="module")
def routes() -> Rendered:
    return render(sets=PARENT + [
        "gatewayApi.grpcRoute.enabled=true", "gatewayApi.grpcRoute.hostnames[0]=grpc.chat.example.com",
        "gatewayApi.httpRoute.enabled=true", "gatewayApi.httpRoute.hostnames[0]=chat.example.com",
        "gatewayApi.httpRoute.paths[0]=/v1/chat", "gatewayApi.httpRoute.paths[1]=/",
    ])


@pytest.mark.parametrize("kind", ROUTES)
def test_route_attaches_to_the_gateway_and_reaches_the_chatbot(routes: Rendered, kind: str) -> None:
    route = routes.get(kind, name("chatbot"))
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    spec = route["spec"]
    assert spec["parentRefs"] == [{"name": "public", "namespace": "gateway-system"}]
    assert spec["hostnames"] == (["grpc.chat.example.com"] if kind == "GRPCRoute" else ["chat.example.com"])
    (rule,) = spec["rules"]
    assert rule["backendRefs"] == [{"name": name("chatbot"), "port": _chatbot_service_port(routes)["port"]}]
    if kind == "GRPCRoute":
        assert "matches" not in rule, "every gRPC service of the port: ChatService, health, reflection"
    else:
        assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": p}} for p in ("/v1/chat", "/")]


def test_route_parent_refs_can_differ() -> None:
    r = render(sets=PARENT + [
        "gatewayApi.grpcRoute.enabled=true",
        "gatewayApi.grpcRoute.parentRefs[0].name=grpc-gateway", "gatewayApi.grpcRoute.parentRefs[0].sectionName=grpc",
    ])
    assert r.get("GRPCRoute", name("chatbot"))["spec"]["parentRefs"] == [{"name": "grpc-gateway", "sectionName": "grpc"}]
    assert r.of_kind("HTTPRoute") == []


@pytest.mark.parametrize("route", ["grpcRoute", "httpRoute"])
def test_route_without_a_gateway_is_refused(route: str) -> None:
    proc = helm(*template_args(sets=[f"gatewayApi.{route}.enabled=true"]), check=False)
    assert proc.returncode != 0
    assert "gatewayApi.parentRefs" in proc.stderr, proc.stderr
