"""Helpers for the Helm chart tests (no pytest fixtures here): run helm, parse what it renders,
and answer questions about the rendered objects, including a small NetworkPolicy evaluator.

Nothing here needs a cluster: the chart is rendered with `helm template` and every claim is
checked on the rendered objects (and, in test_probes_live.py, against the real binaries).
"""

from __future__ import annotations

import base64
import ipaddress
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "helm" / "chatmesh"
PRODUCTION_VALUES = CHART / "values-production.yaml"
SCALE_VALUES = CHART / "values-scale.yaml"
TOOLS_BIN = REPO_ROOT / ".tools" / "bin"
INSTALL_HINT = "run scripts/install-tools.sh (from the repo root) to install helm and kubernetes-validate into .tools/"

RELEASE = "t"
NAMESPACE = "chatmesh"
# The Kubernetes versions every rendered manifest is validated against: the oldest and the
# newest this chart is validated for (kubernetes-validate ships both).
KUBE_VERSIONS = ("1.30.0", "1.37.0")
# The values files every rendering-wide property is checked with.
VALUE_SETS: dict[str, list[Path]] = {
    "default": [],
    "production": [PRODUCTION_VALUES],
    "scale": [SCALE_VALUES],
}
# The data services each values file puts on an external engine (they are then Deployments).
EXTERNAL_ENGINES: dict[str, set[str]] = {
    "default": set(),
    "production": {"relational"},
    "scale": {"graph", "vector", "relational"},
}


@dataclass(frozen=True)
class Component:
    """One chatmesh service as the chart must deploy it (the facts, not the chart's values)."""

    name: str
    port: int  # default port
    fqn: str  # the gRPC service name it serves and reports through grpc.health.v1
    kind: str  # Deployment or StatefulSet, with the default values (on an embedded store)

    @property
    def backend(self) -> bool:
        """A data service (graph, vector, relational): behind the router, with a headless Service."""
        return self.kind == "StatefulSet"

    def __str__(self) -> str:  # readable parametrize ids
        return self.name


COMPONENTS: tuple[Component, ...] = (
    Component("chatbot", 50051, "chatmesh.chat.v1.ChatService", "Deployment"),
    Component("router", 50052, "chatmesh.router.v1.RouterService", "Deployment"),
    Component("graph", 50053, "chatmesh.graph.v1.GraphService", "StatefulSet"),
    Component("vector", 50054, "chatmesh.vector.v1.VectorService", "StatefulSet"),
    Component("relational", 50055, "chatmesh.relational.v1.RelationalService", "StatefulSet"),
)
BY_NAME = {c.name: c for c in COMPONENTS}
BACKENDS = tuple(c for c in COMPONENTS if c.backend)
STATELESS = tuple(c for c in COMPONENTS if not c.backend)


def helm_bin() -> Path:
    raw = os.environ.get("HELM", "").strip()
    return Path(raw) if raw else TOOLS_BIN / "helm"


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run helm with a clean, offline-friendly environment; with check, fail with its stderr."""
    binary = helm_bin()
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        raise AssertionError(f"helm not found at {binary}: {INSTALL_HINT} (or set HELM)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELM_")}
    # Keep helm's caches and config out of $HOME and the work tree.
    scratch = Path(os.environ.get("TMPDIR", "/tmp")) / "chatmesh-helm-tests"
    for var, sub in (("HELM_CACHE_HOME", "cache"), ("HELM_CONFIG_HOME", "config"), ("HELM_DATA_HOME", "data")):
        env[var] = str(scratch / sub)
    proc = subprocess.run([str(binary), *args], capture_output=True, text=True, env=env, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"helm {' '.join(args)} exited {proc.returncode}\n--- stderr ---\n{proc.stderr}\n--- stdout ---\n{proc.stdout[-4000:]}"
        )
    return proc


def template_args(values_files: Iterable[Path] = (), sets: Iterable[str] = (), kube_version: str = KUBE_VERSIONS[0]) -> list[str]:
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE, "--kube-version", kube_version]
    for f in values_files:
        args += ["-f", str(f)]
    for s in sets:
        args += ["--set", s]
    return args


@dataclass
class Rendered:
    """The objects `helm template` produced (hook objects such as the test pod included)."""

    docs: list[dict[str, Any]]
    text: str
    label: str = ""  # the VALUE_SETS name, for the session fixtures

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        found = [d for d in self.docs if d["kind"] == kind and d["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} named {name}, found {len(found)}; have: {self.names()}"
        return found[0]

    def maybe(self, kind: str, name: str) -> dict[str, Any] | None:
        found = [d for d in self.docs if d["kind"] == kind and d["metadata"]["name"] == name]
        assert len(found) <= 1, f"{len(found)} objects {kind}/{name}"
        return found[0] if found else None

    def names(self) -> list[str]:
        return [f"{d['kind']}/{d['metadata']['name']}" for d in self.docs]

    def workload(self, component: str) -> dict[str, Any]:
        """The component's Deployment or StatefulSet (a data service on an external engine is a
        Deployment); exactly one of them."""
        found = [d for d in self.docs if d["kind"] in ("Deployment", "StatefulSet") and d["metadata"]["name"] == name(component)]
        assert len(found) == 1, f"expected one workload named {name(component)}, found {len(found)}; have: {self.names()}"
        return found[0]

    def kind(self, component: str) -> str:
        return self.workload(component)["kind"]

    def container(self, component: str) -> dict[str, Any]:
        containers = self.workload(component)["spec"]["template"]["spec"]["containers"]
        assert len(containers) == 1, f"{component}: expected one container, found {len(containers)}"
        return containers[0]

    def configmap_data(self) -> dict[str, str]:
        return self.get("ConfigMap", f"{fullname()}-config")["data"]

    def secret_data(self, secret_name: str) -> dict[str, str] | None:
        secret = self.maybe("Secret", secret_name)
        if secret is None:
            return None
        return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}

    def env(self, component: str) -> dict[str, Any]:
        """The container's environment: envFrom ConfigMaps resolved, then env (later wins).
        Values from a Secret come back as ("secret", name, key, optional)."""
        c = self.container(component)
        out: dict[str, Any] = {}
        for src in c.get("envFrom", []):
            ref = src["configMapRef"]["name"]
            out.update(self.get("ConfigMap", ref)["data"])
        for e in c.get("env", []):
            if "value" in e:
                out[e["name"]] = e["value"]
            else:
                ref = e["valueFrom"]["secretKeyRef"]
                out[e["name"]] = ("secret", ref["name"], ref["key"], ref.get("optional", False))
        return out


def render(values_files: Iterable[Path] = (), sets: Iterable[str] = (), kube_version: str = KUBE_VERSIONS[0], label: str = "") -> Rendered:
    proc = helm(*template_args(values_files, sets, kube_version))
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    return Rendered(docs=docs, text=proc.stdout, label=label)


def fullname() -> str:
    return f"{RELEASE}-chatmesh"


def name(component: str) -> str:
    return f"{fullname()}-{component}"


def selector_labels(component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "chatmesh",
        "app.kubernetes.io/instance": RELEASE,
        "app.kubernetes.io/component": component,
    }


# --------------------------------------------------------------------------------------------
# Label selectors and a NetworkPolicy evaluator (the semantics of networking.k8s.io/v1)


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A metav1.LabelSelector: {} matches everything; matchLabels and matchExpressions AND."""
    if selector is None:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise AssertionError(f"unknown selector operator {op}")
    return True


@dataclass(frozen=True)
class Endpoint:
    """Something that sends or receives traffic: a pod (namespace + labels + IP) or a bare IP
    outside the cluster (namespace None)."""

    label: str
    ip: str
    namespace: str | None = None
    namespace_labels: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    labels: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def __str__(self) -> str:
        return self.label


def pod(label: str, ip: str, namespace: str, labels: dict[str, str]) -> Endpoint:
    return Endpoint(label, ip, namespace, {"kubernetes.io/metadata.name": namespace}, labels)


def external(label: str, ip: str) -> Endpoint:
    return Endpoint(label, ip)


def _peer_matches(peer: dict[str, Any], policy_ns: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        addr = ipaddress.ip_address(other.ip)
        if addr not in ipaddress.ip_network(block["cidr"]):
            return False
        return not any(addr in ipaddress.ip_network(e) for e in block.get("except", []))
    if other.namespace is None:  # pod and namespace selectors only ever match pods
        return False
    if "namespaceSelector" in peer:
        if not selector_matches(peer["namespaceSelector"], other.namespace_labels):
            return False
    elif other.namespace != policy_ns:
        return False
    if "podSelector" in peer:
        return selector_matches(peer["podSelector"], other.labels)
    return True


def _port_matches(rule_ports: list[dict[str, Any]] | None, port: int, protocol: str) -> bool:
    if not rule_ports:
        return True
    for p in rule_ports:
        if p.get("protocol", "TCP") != protocol:
            continue
        if "port" not in p:
            return True
        if isinstance(p["port"], str):
            raise AssertionError(f"named port {p['port']!r} in a NetworkPolicy: this evaluator (and the chart) use numbers")
        end = p.get("endPort", p["port"])
        if p["port"] <= port <= end:
            return True
    return False


def _policy_types(policy: dict[str, Any]) -> list[str]:
    spec = policy["spec"]
    if "policyTypes" in spec:
        return spec["policyTypes"]
    return ["Ingress"] + (["Egress"] if "egress" in spec else [])


class Policies:
    """The NetworkPolicies of one rendering, all in NAMESPACE."""

    def __init__(self, rendered: Rendered):
        self.policies = rendered.of_kind("NetworkPolicy")
        for p in self.policies:
            assert p["metadata"].get("namespace", NAMESPACE) == NAMESPACE

    def selecting(self, target: Endpoint, direction: str) -> list[dict[str, Any]]:
        if target.namespace != NAMESPACE:
            return []
        return [
            p for p in self.policies
            if direction in _policy_types(p) and selector_matches(p["spec"]["podSelector"], target.labels)
        ]

    def ingress_allows(self, src: Endpoint, dst: Endpoint, port: int, protocol: str = "TCP") -> bool:
        selecting = self.selecting(dst, "Ingress")
        if not selecting:
            return True  # not isolated
        for p in selecting:
            for rule in p["spec"].get("ingress") or []:
                peers = rule.get("from")
                if (not peers or any(_peer_matches(peer, NAMESPACE, src) for peer in peers)) and _port_matches(rule.get("ports"), port, protocol):
                    return True
        return False

    def egress_allows(self, src: Endpoint, dst: Endpoint, port: int, protocol: str = "TCP") -> bool:
        selecting = self.selecting(src, "Egress")
        if not selecting:
            return True
        for p in selecting:
            for rule in p["spec"].get("egress") or []:
                peers = rule.get("to")
                if (not peers or any(_peer_matches(peer, NAMESPACE, dst) for peer in peers)) and _port_matches(rule.get("ports"), port, protocol):
                    return True
        return False

    def allows(self, src: Endpoint, dst: Endpoint, port: int, protocol: str = "TCP") -> bool:
        """A connection needs both the source's egress and the destination's ingress."""
        return self.egress_allows(src, dst, port, protocol) and self.ingress_allows(src, dst, port, protocol)


def chart_pods(rendered: Rendered) -> dict[str, Endpoint]:
    """One Endpoint per chatmesh component, with the labels its pod template really carries,
    plus the `helm test` pod when the chart renders it."""
    out: dict[str, Endpoint] = {}
    for i, c in enumerate(COMPONENTS):
        labels = rendered.workload(c.name)["spec"]["template"]["metadata"]["labels"]
        out[c.name] = pod(c.name, f"10.244.0.{10 + i}", NAMESPACE, labels)
    test_pod = rendered.maybe("Pod", f"{fullname()}-test-health")
    if test_pod is not None:
        out["test"] = pod("test", "10.244.0.30", NAMESPACE, test_pod["metadata"]["labels"])
    return out


def render_notes(values_files: Iterable[Path] = (), sets: Iterable[str] = ()) -> str:
    """NOTES.txt as `helm install` would print it. `helm template` does not render NOTES.txt
    and `helm install --dry-run` wants a cluster, so a copy of the chart renders it through
    `tpl` into a ConfigMap."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "chatmesh"
        shutil.copytree(CHART, copy)
        (copy / "notes.txt").write_text((copy / "templates" / "NOTES.txt").read_text())
        (copy / "templates" / "zz-notes.yaml").write_text(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rendered-notes\n"
            "data:\n  notes: {{ tpl (.Files.Get \"notes.txt\") . | quote }}\n"
        )
        args = ["template", RELEASE, str(copy), "--namespace", NAMESPACE, "--show-only", "templates/zz-notes.yaml"]
        for f in values_files:
            args += ["-f", str(f)]
        for s in sets:
            args += ["--set", s]
        doc = yaml.safe_load(helm(*args).stdout)
    return doc["data"]["notes"]
