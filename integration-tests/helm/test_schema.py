"""values.schema.json (and the chart's cross-value checks) reject bad values at `helm template`
/ `helm install` time, with a message naming the setting; good edge values still render."""

from __future__ import annotations

import json

import pytest

from chart import CHART, helm, render, template_args

# (--set arguments, a fragment the error must contain)
BAD: dict[str, tuple[list[str], str]] = {
    "negative replicas": (["chatbot.replicaCount=-1"], "chatbot.replicaCount"),
    "negative backend replicas": (["graph.replicaCount=-2"], "graph.replicaCount"),
    "replicas not a number": (["router.replicaCount=two"], "router.replicaCount"),
    "unknown log format": (["log.format=xml"], "log.format"),
    "empty log filter": (["log.filter="], "log.filter"),
    "port too big": (["graph.port=70000"], "graph.port"),
    "port zero": (["chatbot.port=0"], "chatbot.port"),
    "port a string": (["vector.port=grpc"], "vector.port"),
    "storage size missing": (["graph.persistence.size=null"], "size"),
    "storage size empty": (["vector.persistence.size="], "vector.persistence.size"),
    "storage size not a quantity": (["relational.persistence.size=lots"], "relational.persistence.size"),
    "bad storage class": (["graph.persistence.storageClass=Fast SSD"], "graph.persistence.storageClass"),
    "unknown access mode": (["graph.persistence.accessModes[0]=ReadWriteSometimes"], "accessModes"),
    "unknown top-level key": (["replicas=3"], "replicas"),
    "typo in a component": (["chatbot.replicas=3"], "replicas"),
    "typo in probes": (["probes.liveness.timeout=5"], "timeout"),
    "probe timeout zero": (["probes.readiness.timeoutSeconds=0"], "probes.readiness.timeoutSeconds"),
    "root user": (["podSecurityContext.runAsUser=0"], "podSecurityContext.runAsUser"),
    "runAsNonRoot off": (["containerSecurityContext.runAsNonRoot=false"], "runAsNonRoot"),
    "privilege escalation": (["containerSecurityContext.allowPrivilegeEscalation=true"], "allowPrivilegeEscalation"),
    "privileged": (["containerSecurityContext.privileged=true"], "privileged"),
    "requests without memory": (["chatbot.resources.requests.memory=null"], "memory"),
    "limits missing": (["router.resources.limits=null"], "limits"),
    "cpu not a quantity": (["vector.resources.requests.cpu=fast"], "cpu"),
    "pdb allows no disruption": (["graph.podDisruptionBudget.maxUnavailable=0"], "maxUnavailable"),
    "hpa min zero": (["chatbot.autoscaling.minReplicas=0"], "chatbot.autoscaling.minReplicas"),
    "hpa cpu over 100": (["router.autoscaling.targetCPUUtilizationPercentage=150"], "targetCPUUtilizationPercentage"),
    "otel endpoint without port": (["otel.endpoint=http://collector"], "otel.endpoint"),
    "otel endpoint not a url": (["otel.endpoint=collector:4317"], "otel.endpoint"),
    "database url not postgres": (["secret.databaseUrl=mysql://x@db/chatmesh"], "secret.databaseUrl"),
    "pull policy": (["image.pullPolicy=Sometimes"], "image.pullPolicy"),
    "empty registry": (["image.registry="], "image.registry"),
    "env value a number": (["extraEnv[0].name=N", "extraEnv[0].value=1"], "extraEnv.0.value"),
    "bad network peer": (["networkPolicy.chatbotFrom[0].podSelectr.app=x"], "podSelectr"),
    "negative drain": (["shutdown.drainDelaySeconds=-1"], "shutdown.drainDelaySeconds"),
    "seed demo not a bool": (["seedDemo=yes"], "seedDemo"),
    "session url not postgres": (["secret.sessionUrl=redis://cache:6379"], "secret.sessionUrl"),
    "vector url not postgres": (["secret.vectorDatabaseUrl=http://qdrant:6333"], "secret.vectorDatabaseUrl"),
    "graph url not bolt": (["graph.external.url=http://neo4j:7474"], "graph.external.url"),
    "graph engine without url": (["graph.external.enabled=true"], "graph.external.url"),
    "password in values, not the Secret": (["graph.external.password=pw"], "password"),
    "vector engine url in values": (["vector.external.url=postgres://x@db/v"], "url"),
    "sessions port zero": (["sessions.port=0"], "sessions.port"),
    "engine peer typo": (["vector.external.to[0].ipblock.cidr=10.0.0.0/8"], "ipblock"),
    "autoscaling typo on a data service": (["graph.autoscaling.enable=true"], "enable"),
    "scrape interval not a duration": (["metrics.podMonitor.interval=30"], "metrics.podMonitor.interval"),
    "monitor label not a string": (["metrics.serviceMonitor.labels.release=1"], "release"),
    "annotations not a bool": (["metrics.annotations=yes"], "metrics.annotations"),
    "metrics peer typo": (["networkPolicy.metricsFrom[0].namespaceSelectr.x=y"], "namespaceSelectr"),
    "ingress host not a DNS name": (["ingress.hosts[0]=Chat_Example"], "ingress.hosts.0"),
    "ingress path type": (["ingress.paths[0].pathType=Regex"], "pathType"),
    "ingress path relative": (["ingress.paths[0].path=chat"], "ingress.paths.0.path"),
    "ingress tls without secret": (["ingress.tls[0].hosts[0]=a.example"], "secretName"),
    "gateway parent without name": (["gatewayApi.parentRefs[0].namespace=gw"], "name"),
    "route hostname with a port": (["gatewayApi.grpcRoute.hostnames[0]=chat.example:443"], "hostnames"),
    "spread that never schedules": (["defaultTopologySpreadConstraints[0].whenUnsatisfiable=Maybe", "defaultTopologySpreadConstraints[0].maxSkew=1", "defaultTopologySpreadConstraints[0].topologyKey=zone"], "whenUnsatisfiable"),
    "spread skew zero": (["router.topologySpreadConstraints[0].maxSkew=0", "router.topologySpreadConstraints[0].topologyKey=zone", "router.topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway"], "maxSkew"),
}

# Checks across values, which JSON schema cannot express: the templates `fail`. helm lint only
# logs a template's `fail` (lint mode), so these are enforced at template/install time.
BAD_ACROSS_VALUES: dict[str, tuple[list[str], str]] = {
    "grace shorter than drain + shutdown grace": (["shutdown.terminationGracePeriodSeconds=15"], "terminationGracePeriodSeconds"),
    "external database without a URL": (["relational.externalDatabase.enabled=true"], "secret.databaseUrl"),
    "hpa min above max": (["chatbot.autoscaling.enabled=true", "chatbot.autoscaling.minReplicas=5", "chatbot.autoscaling.maxReplicas=3"], "maxReplicas"),
    "chatbots without a shared session store": (["chatbot.replicaCount=2"], "sessions.enabled"),
    "autoscaled chatbot without a shared session store": (["chatbot.autoscaling.enabled=true"], "sessions.enabled"),
    "sessions without a URL": (["sessions.enabled=true"], "secret.sessionUrl"),
    "vector engine without a URL": (["vector.external.enabled=true"], "secret.vectorDatabaseUrl"),
    "autoscaled embedded graph": (["graph.autoscaling.enabled=true"], "graph.external.enabled"),
    "autoscaled embedded relational": (["relational.autoscaling.enabled=true"], "relational.externalDatabase.enabled"),
    "two kinds of monitor": (["metrics.podMonitor.enabled=true", "metrics.serviceMonitor.enabled=true"], "metrics.serviceMonitor.enabled"),
    "route without a gateway": (["gatewayApi.httpRoute.enabled=true"], "gatewayApi.parentRefs"),
}

GOOD: dict[str, list[str]] = {
    "zero replicas": ["graph.replicaCount=0", "chatbot.replicaCount=0"],
    "highest port": ["chatbot.port=65535"],
    "fractional cpu": ["chatbot.resources.requests.cpu=0.5"],
    "percent pdb": ["graph.podDisruptionBudget.maxUnavailable=25%"],
    "otel with path and ipv6": ["otel.endpoint=http://[fd00::1]:4317/otlp"],
    "postgresql scheme": ["relational.externalDatabase.enabled=true", "secret.databaseUrl=postgresql://u@db:5432/x"],
    "human logs": ["log.format=human", "log.filter=chatmesh_graph=debug\\,info"],
    "no drain": ["shutdown.drainDelaySeconds=0", "shutdown.terminationGracePeriodSeconds=11"],
    "graph over bolt+s and neo4j+ssc": ["graph.external.enabled=true", "graph.external.url=bolt+s://g.example:7687"],
    "graph over neo4j+ssc": ["graph.external.enabled=true", "graph.external.url=neo4j+ssc://g.example:7687"],
    "sessions from an existing secret": ["sessions.enabled=true", "secret.existingSecret=mine", "chatbot.autoscaling.enabled=true"],
    "wildcard route hostname": ["gatewayApi.parentRefs[0].name=gw", "gatewayApi.grpcRoute.enabled=true", "gatewayApi.grpcRoute.hostnames[0]=*.example.com"],
    "hand-scaled embedded graph": ["graph.replicaCount=2"],
}


@pytest.mark.parametrize("case", list(BAD) + list(BAD_ACROSS_VALUES))
def test_bad_values_are_rejected(case: str) -> None:
    sets, fragment = {**BAD, **BAD_ACROSS_VALUES}[case]
    proc = helm(*template_args(sets=sets), check=False)
    assert proc.returncode != 0, f"{case}: helm template accepted --set {sets}"
    assert fragment in proc.stderr, f"{case}: the error does not name {fragment!r}:\n{proc.stderr}"
    assert proc.stdout.strip() == "", f"{case}: rendered something despite the error"


@pytest.mark.parametrize("case", list(BAD))
def test_bad_values_fail_lint_too(case: str) -> None:
    sets, _ = BAD[case]
    args = ["lint", "--strict", str(CHART)]
    for s in sets:
        args += ["--set", s]
    assert helm(*args, check=False).returncode != 0, f"{case}: helm lint accepted --set {sets}"


@pytest.mark.parametrize("case", list(GOOD))
def test_good_edge_values_render(case: str) -> None:
    render(sets=GOOD[case])


def test_schema_covers_every_value() -> None:
    """Every key in values.yaml is described by the schema, and nothing else is accepted: the
    schema is closed (additionalProperties false) wherever the chart owns the keys."""
    import yaml

    schema = json.loads((CHART / "values.schema.json").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    defs = schema["definitions"]

    def resolve(node: dict) -> dict:
        while "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[1]]
        return node

    # Kubernetes types passed through as they are: the schema pins the fields that matter
    # (non-root, no escalation, quantities) and leaves the rest of the type open.
    kubernetes_types = {"podSecurityContext", "containerSecurityContext"}

    def walk(node: dict, value: object, path: str) -> None:
        node = resolve(node)
        if isinstance(value, dict) and "properties" in node:
            open_ok = path.split(".")[0] in kubernetes_types or path.endswith((".requests", ".limits"))
            assert open_ok or node.get("additionalProperties") is False, f"{path or '<root>'}: schema is open"
            for key, sub in value.items():
                if key not in node["properties"] and open_ok:
                    continue
                assert key in node["properties"], f"{path}.{key} is in values.yaml but not in the schema"
                walk(node["properties"][key], sub, f"{path}.{key}".lstrip("."))

    walk(schema, values, "")
