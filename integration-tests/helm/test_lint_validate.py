"""helm lint (strict), helm template, and every rendered manifest against the Kubernetes
OpenAPI schemas (kubernetes-validate, strict: unknown fields are errors too)."""

from __future__ import annotations

import copy
import subprocess
import tempfile
from pathlib import Path

import kubernetes_validate.utils as kv
import pytest

from chart import (
    CHART,
    KUBE_VERSIONS,
    TOOLS_BIN,
    VALUE_SETS,
    Rendered,
    helm,
    render,
    template_args,
)

# Renderings that switch on the branches the two values files leave off, so that every
# template path is validated, not just the two files.
VARIANTS: dict[str, list[str]] = {
    "chart-secret-and-tokens": [
        "relational.externalDatabase.enabled=true",
        "secret.databaseUrl=postgres://u:p@db.example:5432/chatmesh",
        "secret.authTokens=t1\\,t2",
    ],
    "otel-any-destination": ["otel.endpoint=https://collector.example:4318/v1"],
    "no-persistence-no-storage-class": [
        "graph.persistence.enabled=false",
        "vector.persistence.storageClass=-",
        "relational.persistence.storageClass=standard",
    ],
    "no-network-policy-no-tests": ["networkPolicy.enabled=false", "tests.enabled=false"],
    "hpa-memory-and-percent-pdb": [
        "router.autoscaling.enabled=true",
        "router.autoscaling.targetMemoryUtilizationPercentage=80",
        "router.podDisruptionBudget.maxUnavailable=50%",
    ],
    "engines-and-sessions-from-the-chart-secret": [
        "sessions.enabled=true",
        "secret.sessionUrl=postgres://s:p@sessions.example:5432/sessions",
        "chatbot.replicaCount=3",
        "vector.external.enabled=true",
        "secret.vectorDatabaseUrl=postgres://v:p@pgvector.example:5432/vectors",
        "vector.autoscaling.enabled=true",
        "graph.external.enabled=true",
        "graph.external.url=neo4j+s://graph.example:7687",
        "secret.graphPassword=pw",
        "graph.replicaCount=3",
    ],
    "ingress-with-tls-and-class": [
        "ingress.enabled=true",
        "ingress.className=nginx",
        "ingress.annotations.nginx\\.ingress\\.kubernetes\\.io/backend-protocol=GRPC",
        "ingress.hosts[0]=chat.example.com",
        "ingress.tls[0].secretName=chat-tls",
        "ingress.tls[0].hosts[0]=chat.example.com",
    ],
    "ingress-any-host": ["ingress.enabled=true"],
    "metrics-from-with-tls-and-no-annotations": [
        "networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.team=monitoring",
        "tls.enabled=true",
        "tls.secretName=chatmesh-tls",
        "metrics.annotations=false",
    ],
    "ipv6-listen-and-extra-env": [
        "listenAddress=[::]",
        "extraEnv[0].name=RUST_BACKTRACE",
        "extraEnv[0].value=full",
        "graph.extraEnv[0].name=CHATMESH_KEEPALIVE_INTERVAL",
        "graph.extraEnv[0].value=60s",
    ],
    "fullname-override": ["fullnameOverride=mesh"],
}

EXPECTED_KINDS = {
    "ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "ServiceAccount", "Pod",
}
# Kinds from CRDs (Prometheus Operator, Gateway API): off in every values file, so that the
# Kubernetes schemas validate everything rendered; test_metrics.py and test_edge.py check them.
CRD_KINDS = {"PodMonitor", "ServiceMonitor", "GRPCRoute", "HTTPRoute"}


@pytest.mark.parametrize("values", list(VALUE_SETS))
def test_helm_lint_strict(values: str) -> None:
    args = ["lint", "--strict", str(CHART)]
    for f in VALUE_SETS[values]:
        args += ["-f", str(f)]
    proc = helm(*args, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"helm lint --strict failed ({values}):\n{out}"
    assert "1 chart(s) linted, 0 chart(s) failed" in out, out
    assert "[WARNING]" not in out and "[ERROR]" not in out, out


def test_template_renders_every_kind(rendered: Rendered) -> None:
    kinds = {d["kind"] for d in rendered.docs}
    assert EXPECTED_KINDS <= kinds, f"missing kinds: {EXPECTED_KINDS - kinds}"
    assert not kinds & CRD_KINDS, f"{rendered.label}: CRD kinds {kinds & CRD_KINDS} would fail the schema validation"
    # StatefulSets only for the embedded stores; values-scale.yaml has none.
    assert ("StatefulSet" in kinds) == (rendered.label != "scale"), kinds
    for d in rendered.docs:
        assert d.get("apiVersion") and d.get("kind") and d["metadata"].get("name"), d
    names = rendered.names()
    assert len(names) == len(set(names)), f"duplicate objects: {sorted(names)}"


def test_production_turns_on_what_it_claims(production: Rendered) -> None:
    """values-production.yaml: HPA, external PostgreSQL via existingSecret, bigger resources,
    a storage class, an OTLP endpoint."""
    assert {h["metadata"]["name"] for h in production.of_kind("HorizontalPodAutoscaler")} == {"t-chatmesh-chatbot", "t-chatmesh-router"}
    env = production.env("relational")
    assert env["CHATMESH_DATABASE_URL"] == ("secret", "chatmesh-secrets", "database-url", False)
    assert production.of_kind("Secret") == [], "with existingSecret the chart must not create a Secret"
    assert production.configmap_data()["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("http://otel-collector")
    for comp in ("graph", "vector"):
        vct = production.workload(comp)["spec"]["volumeClaimTemplates"][0]
        assert vct["spec"]["storageClassName"] == "fast-ssd", comp
    assert production.container("vector")["resources"]["limits"]["memory"] == "8Gi"
    # Three to twenty chatbots share their sessions in PostgreSQL.
    assert production.env("chatbot")["CHATMESH_SESSION_URL"] == ("secret", "chatmesh-secrets", "session-url", False)


def test_scale_turns_on_what_it_claims(scale: Rendered) -> None:
    """values-scale.yaml: every stateful tier on an external engine, sessions shared, every
    service an autoscaled Deployment, no volume anywhere, credentials only from the Secret."""
    assert scale.of_kind("StatefulSet") == [] and scale.of_kind("PersistentVolumeClaim") == []
    assert {h["metadata"]["name"] for h in scale.of_kind("HorizontalPodAutoscaler")} == {
        f"t-chatmesh-{c}" for c in ("chatbot", "router", "graph", "vector", "relational")
    }
    assert scale.of_kind("Secret") == []
    assert scale.env("chatbot")["CHATMESH_SESSION_URL"] == ("secret", "chatmesh-secrets", "session-url", False)
    assert scale.env("vector")["CHATMESH_VECTOR_DATABASE_URL"] == ("secret", "chatmesh-secrets", "vector-database-url", False)
    assert scale.env("relational")["CHATMESH_DATABASE_URL"] == ("secret", "chatmesh-secrets", "database-url", False)
    graph = scale.env("graph")
    assert graph["CHATMESH_GRAPH_URL"].startswith("bolt://") and graph["CHATMESH_GRAPH_USER"] == "neo4j"
    assert graph["CHATMESH_GRAPH_PASSWORD"] == ("secret", "chatmesh-secrets", "graph-password", True)
    for comp in ("graph", "vector"):
        assert "CHATMESH_DATA_DIR" not in scale.env(comp), comp


def _validate_all(docs: list[dict], version: str) -> list[str]:
    errors: list[str] = []
    for doc in docs:
        what = f"{doc['kind']}/{doc['metadata']['name']}"
        try:
            kv.validate(doc, version, strict=True)
        except kv.ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            errors.append(f"{what} against {version}: {path}: {e.message}")
        except kv.SchemaNotFoundError as e:
            errors.append(f"{what}: no schema ({e.message})")
    return errors


@pytest.mark.parametrize("version", KUBE_VERSIONS)
def test_manifests_validate_against_kubernetes_schemas(rendered: Rendered, version: str) -> None:
    errors = _validate_all(rendered.docs, version)
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variant_renders_lint_clean_and_validates(variant: str) -> None:
    sets = VARIANTS[variant]
    lint = ["lint", "--strict", str(CHART)]
    for s in sets:
        lint += ["--set", s]
    proc = helm(*lint, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    r = render(sets=sets)
    for version in KUBE_VERSIONS:
        errors = _validate_all(r.docs, version)
        assert not errors, "\n".join(errors)


def test_kubernetes_validate_cli_on_helm_template_output() -> None:
    """The pipeline an operator would run: helm template ... | kubernetes-validate."""
    cli = TOOLS_BIN / "kubernetes-validate"
    assert cli.exists(), f"{cli} is missing: run scripts/install-tools.sh"
    for values in VALUE_SETS.values():
        text = helm(*template_args(values)).stdout
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(text)
            path = Path(f.name)
        try:
            args = [str(cli), "--strict", "--quiet"]
            for v in KUBE_VERSIONS:
                args += ["-k", v]
            proc = subprocess.run(args + [str(path)], capture_output=True, text=True, timeout=300)
        finally:
            path.unlink()
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out
        # A WARN is a kind it has no schema for, which would silently skip validation.
        assert "WARN" not in out and "ERROR" not in out, out


def test_validation_can_fail(default: Rendered) -> None:
    """The validator is live: a manifest with a wrong type or an unknown field is rejected."""
    bad = copy.deepcopy(default.workload("graph"))
    bad["spec"]["template"]["spec"]["containers"][0]["startupProbe"]["grpc"]["port"] = "grpc"
    assert _validate_all([bad], KUBE_VERSIONS[0]), "a named port in a grpc probe must not validate"
    typo = copy.deepcopy(default.workload("chatbot"))
    typo["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"grpc": {"port": 1}}
    assert _validate_all([typo], KUBE_VERSIONS[0]), "an unknown field must not validate (strict)"


def test_kube_version_constraint() -> None:
    """gRPC probes are GA from 1.27: the chart installs there and refuses older clusters."""
    render(kube_version="1.27.0")
    proc = helm(*template_args(kube_version="1.26.9"), check=False)
    assert proc.returncode != 0
    assert "kubeVersion" in proc.stderr or "incompatible" in proc.stderr.lower(), proc.stderr

