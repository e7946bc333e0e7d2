"""Scaling out on external engines (issue #16): chat sessions in a shared PostgreSQL, vector on
PostgreSQL + pgvector, graph on a Bolt server, relational on PostgreSQL. A tier on an external
engine is a stateless Deployment (no volume) that may be autoscaled, still behind its headless
Service so that the router sees every replica; its credentials come only from the Secret. More
than one chatbot without a shared session store is refused."""

from __future__ import annotations

import pytest

from chart import (
    COMPONENTS,
    Rendered,
    fullname,
    helm,
    name,
    render,
    selector_matches,
    template_args,
)

SESSION_URL = "postgres://sessions:s3cret-sessions@pg.example:5432/sessions"
VECTOR_URL = "postgres://vectors:s3cret-vectors@pgvector.example:5432/vectors"
GRAPH_PASSWORD = "s3cret-graph"
ENGINES = [
    "sessions.enabled=true", f"secret.sessionUrl={SESSION_URL}",
    "vector.external.enabled=true", f"secret.vectorDatabaseUrl={VECTOR_URL}",
    "graph.external.enabled=true", "graph.external.url=bolt://graph.example:7687",
    "graph.external.user=chatmesh", "graph.external.database=mesh", f"secret.graphPassword={GRAPH_PASSWORD}",
]


@pytest.fixture(scope="module")
def engines() -> Rendered:
    return render(sets=ENGINES + ["chatbot.replicaCount=4", "graph.replicaCount=3", "vector.autoscaling.enabled=true"])


def _refused(sets: list[str]) -> str:
    proc = helm(*template_args(sets=sets), check=False)
    assert proc.returncode != 0, f"helm template accepted --set {sets}"
    assert proc.stdout.strip() == ""
    return proc.stderr


# --------------------------------------------------------------------------------------------
# Sessions: one chatbot, or a shared store


@pytest.mark.parametrize("sets", [["chatbot.replicaCount=2"], ["chatbot.autoscaling.enabled=true"]], ids=["replicas", "autoscaling"])
def test_more_than_one_chatbot_needs_a_shared_session_store(sets: list[str]) -> None:
    err = _refused(sets)
    setting = sets[0].split("=")[0]
    assert setting in err and "sessions.enabled" in err, err
    # The message says why, not just what.
    assert "turns of one conversation would land on different replicas" in err, err


def test_one_chatbot_without_sessions_is_fine(default: Rendered) -> None:
    assert default.workload("chatbot")["spec"]["replicas"] == 1
    assert "CHATMESH_SESSION_URL" not in default.env("chatbot")


@pytest.mark.parametrize("secret", ["chart", "existing"])
def test_sessions_from_the_secret(secret: str) -> None:
    sets = ["sessions.enabled=true", "chatbot.autoscaling.enabled=true"]
    if secret == "chart":
        sets.append(f"secret.sessionUrl={SESSION_URL}")
        want = ("secret", f"{fullname()}-secret", "session-url", False)
    else:
        sets += ["secret.existingSecret=mine", "secret.keys.sessionUrl=sessions"]
        want = ("secret", "mine", "sessions", False)
    r = render(sets=sets)
    assert r.env("chatbot")["CHATMESH_SESSION_URL"] == want
    for comp in ("router", "graph", "vector", "relational"):
        assert "CHATMESH_SESSION_URL" not in r.env(comp), comp
    assert r.get("HorizontalPodAutoscaler", name("chatbot"))["spec"]["scaleTargetRef"]["kind"] == "Deployment"
    if secret == "chart":
        assert r.secret_data(f"{fullname()}-secret") == {"session-url": SESSION_URL}
        assert SESSION_URL not in r.text.replace(r.get("Secret", f"{fullname()}-secret")["data"]["session-url"], "")
    else:
        assert r.of_kind("Secret") == []


def test_sessions_without_a_url_are_refused() -> None:
    err = _refused(["sessions.enabled=true"])
    assert "secret.sessionUrl" in err, err


# --------------------------------------------------------------------------------------------
# External engines: stateless Deployments


@pytest.mark.parametrize("component", ["graph", "vector"])
def test_external_engine_makes_a_stateless_deployment(engines: Rendered, component: str) -> None:
    w = engines.workload(component)
    assert w["kind"] == "Deployment"
    assert engines.maybe("StatefulSet", name(component)) is None
    spec = w["spec"]
    assert "volumeClaimTemplates" not in spec and "serviceName" not in spec
    pod = spec["template"]["spec"]
    assert {v["name"] for v in pod["volumes"]} == {"tmp"}
    assert {m["mountPath"] for m in engines.container(component)["volumeMounts"]} == {"/tmp"}
    assert "CHATMESH_DATA_DIR" not in engines.env(component)
    # Rolled like chatbot and router: a new pod is ready before an old one drains.
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_replicas_and_autoscaling_of_external_tiers(engines: Rendered) -> None:
    assert engines.workload("graph")["spec"]["replicas"] == 3
    assert engines.workload("chatbot")["spec"]["replicas"] == 4
    hpa = engines.get("HorizontalPodAutoscaler", name("vector"))
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name("vector")}
    assert "replicas" not in engines.workload("vector")["spec"], "the Deployment must leave replicas to its HPA"
    assert engines.maybe("HorizontalPodAutoscaler", name("graph")) is None


@pytest.mark.parametrize("component", ["graph", "vector"])
def test_router_still_sees_every_replica(engines: Rendered, component: str) -> None:
    """The router resolves the headless Service's name to every ready pod (client-side p2c), so
    an external tier keeps its headless Service, selecting the Deployment's pods."""
    headless = engines.get("Service", f"{name(component)}-headless")["spec"]
    assert headless["clusterIP"] == "None" and headless.get("publishNotReadyAddresses", False) is False
    labels = engines.workload(component)["spec"]["template"]["metadata"]["labels"]
    assert selector_matches({"matchLabels": headless["selector"]}, labels)
    assert engines.env("router")[f"CHATMESH_{component.upper()}_ADDR"] == f"http://{name(component)}-headless:{headless['ports'][0]['port']}"


def test_graph_engine_settings(engines: Rendered) -> None:
    env = engines.env("graph")
    assert env["CHATMESH_GRAPH_URL"] == "bolt://graph.example:7687"
    assert env["CHATMESH_GRAPH_USER"] == "chatmesh"
    assert env["CHATMESH_GRAPH_DATABASE"] == "mesh"
    assert env["CHATMESH_GRAPH_PASSWORD"] == ("secret", f"{fullname()}-secret", "graph-password", True)
    for comp in ("chatbot", "router", "vector", "relational"):
        assert not [k for k in engines.env(comp) if k.startswith("CHATMESH_GRAPH_") and k != "CHATMESH_GRAPH_ADDR"], comp


def test_graph_engine_optional_settings_stay_unset() -> None:
    r = render(sets=["graph.external.enabled=true", "graph.external.url=neo4j://graph.example:7687"])
    env = r.env("graph")
    assert env["CHATMESH_GRAPH_URL"] == "neo4j://graph.example:7687"
    for key in ("CHATMESH_GRAPH_USER", "CHATMESH_GRAPH_PASSWORD", "CHATMESH_GRAPH_DATABASE"):
        assert key not in env, key
    r = render(sets=["graph.external.enabled=true", "graph.external.url=bolt://g:7687", "secret.existingSecret=mine"])
    assert r.env("graph")["CHATMESH_GRAPH_PASSWORD"] == ("secret", "mine", "graph-password", True)


def test_vector_engine_settings(engines: Rendered) -> None:
    assert engines.env("vector")["CHATMESH_VECTOR_DATABASE_URL"] == ("secret", f"{fullname()}-secret", "vector-database-url", False)
    for comp in ("chatbot", "router", "graph", "relational"):
        assert "CHATMESH_VECTOR_DATABASE_URL" not in engines.env(comp), comp


def test_credentials_only_in_the_secret(engines: Rendered) -> None:
    secret = engines.secret_data(f"{fullname()}-secret")
    assert secret == {"session-url": SESSION_URL, "vector-database-url": VECTOR_URL, "graph-password": GRAPH_PASSWORD}
    rest = "\n".join(str(d) for d in engines.docs if d["kind"] != "Secret")
    for credential in ("s3cret-sessions", "s3cret-vectors", GRAPH_PASSWORD):
        assert credential not in rest, credential


@pytest.mark.parametrize(
    "sets, fragment",
    [
        (["vector.external.enabled=true"], "secret.vectorDatabaseUrl"),
        (["graph.external.enabled=true"], "graph.external.url"),
    ],
    ids=["vector-without-url", "graph-without-url"],
)
def test_engine_without_its_address_is_refused(sets: list[str], fragment: str) -> None:
    assert fragment in _refused(sets)


@pytest.mark.parametrize("component", ["graph", "vector", "relational"])
def test_autoscaling_an_embedded_store_is_refused(component: str) -> None:
    err = _refused([f"{component}.autoscaling.enabled=true"])
    engine = "relational.externalDatabase.enabled" if component == "relational" else f"{component}.external.enabled"
    assert f"{component}.autoscaling.enabled" in err and engine in err, err


@pytest.mark.parametrize("component", [c.name for c in COMPONENTS])
def test_pdb_and_services_follow_the_deployment(engines: Rendered, component: str) -> None:
    labels = engines.workload(component)["spec"]["template"]["metadata"]["labels"]
    assert selector_matches(engines.get("PodDisruptionBudget", name(component))["spec"]["selector"], labels)
    assert selector_matches({"matchLabels": engines.get("Service", name(component))["spec"]["selector"]}, labels)


def test_notes_name_the_engines() -> None:
    from chart import render_notes

    notes = render_notes(sets=ENGINES + ["relational.externalDatabase.enabled=true", "secret.databaseUrl=postgres://r@pg:5432/r"])
    assert "sessions" in notes and "session-url" in notes
    assert "bolt://graph.example:7687" in notes
    assert "vector-database-url" in notes
