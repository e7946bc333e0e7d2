"""What every rendered workload must carry: the three gRPC probes on the right port and
service name, the hardened security context, resources, PDBs, volumes, Services and wiring."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from chart import (
    BACKENDS,
    BY_NAME,
    CHART,
    COMPONENTS,
    EXTERNAL_ENGINES,
    STATELESS,
    Rendered,
    fullname,
    name,
    render,
    render_notes,
    selector_matches,
)

UID = 65532
COMPONENT_IDS = [c.name for c in COMPONENTS]


def _listen_port(rendered: Rendered, component: str) -> int:
    listen = rendered.env(component)["CHATMESH_LISTEN"]
    m = re.fullmatch(r"(.+):(\d+)", listen)
    assert m, f"{component}: CHATMESH_LISTEN={listen!r} is not HOST:PORT"
    return int(m.group(2))


def _quantity(q: str | int | float) -> Decimal:
    """A Kubernetes quantity as a number (cores or bytes)."""
    units = {
        "m": Decimal("0.001"), "": Decimal(1), "k": Decimal(10**3), "M": Decimal(10**6), "G": Decimal(10**9),
        "T": Decimal(10**12), "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30), "Ti": Decimal(2**40),
    }
    m = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(q))
    assert m and m.group(2) in units, f"not a quantity: {q!r}"
    return Decimal(m.group(1)) * units[m.group(2)]


# --------------------------------------------------------------------------------------------
# Workloads and probes


def test_workload_kinds(rendered: Rendered) -> None:
    """chatbot and router are Deployments; a data service is a StatefulSet on its embedded
    store and a Deployment on an external engine."""
    external = EXTERNAL_ENGINES[rendered.label]
    stateless = {c.name for c in STATELESS} | external
    assert {d["metadata"]["name"] for d in rendered.of_kind("Deployment")} == {name(c) for c in stateless}
    assert {d["metadata"]["name"] for d in rendered.of_kind("StatefulSet")} == {name(c.name) for c in BACKENDS if c.name not in external}


@pytest.mark.parametrize("component", COMPONENT_IDS)
def test_three_grpc_probes_on_the_service_port(rendered: Rendered, component: str) -> None:
    comp = BY_NAME[component]
    c = rendered.container(component)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"grpc": comp.port}, f"{component}: container ports {ports}"
    assert _listen_port(rendered, component) == comp.port
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = c.get(kind)
        assert probe, f"{component}: no {kind}"
        handlers = {"grpc", "httpGet", "tcpSocket", "exec"} & set(probe)
        assert handlers == {"grpc"}, f"{component} {kind}: handlers {handlers}, want a native grpc probe"
        assert probe["grpc"]["port"] == comp.port, f"{component} {kind}: port {probe['grpc']['port']}"
    # Start-up and readiness ask for the service's own name; liveness for the whole server.
    assert c["startupProbe"]["grpc"]["service"] == comp.fqn
    assert c["readinessProbe"]["grpc"]["service"] == comp.fqn
    assert c["livenessProbe"]["grpc"].get("service", "") == ""


@pytest.mark.parametrize("component", COMPONENT_IDS)
def test_probe_timings_do_not_crash_loop_under_load(rendered: Rendered, component: str) -> None:
    c = rendered.container(component)
    live, ready, start = c["livenessProbe"], c["readinessProbe"], c["startupProbe"]
    # Kubernetes defaults are timeoutSeconds 1, failureThreshold 3: far too tight for a busy pod.
    assert live["timeoutSeconds"] >= 5 and ready["timeoutSeconds"] >= 3, (live, ready)
    # A restart needs at least a minute of consecutive failed liveness checks.
    assert live["periodSeconds"] * live["failureThreshold"] >= 60, live
    # Loading a store gets at least two minutes before liveness takes over.
    assert start["periodSeconds"] * start["failureThreshold"] >= 120, start
    assert ready["failureThreshold"] >= 2 and ready.get("successThreshold", 1) == 1, ready


def test_changed_ports_move_everything_together() -> None:
    """One value per port: container, CHATMESH_LISTEN, probes, Services, the addresses the
    other services dial and the NetworkPolicy all follow it."""
    sets = [f"{c.name}.port={c.port + 10000}" for c in COMPONENTS]
    r = render(sets=sets)
    for comp in COMPONENTS:
        port = comp.port + 10000
        c = r.container(comp.name)
        assert c["ports"][0]["containerPort"] == port
        assert _listen_port(r, comp.name) == port
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert c[kind]["grpc"]["port"] == port
        assert r.get("Service", name(comp.name))["spec"]["ports"][0]["port"] == port
        pol = r.get("NetworkPolicy", name(comp.name))
        assert [p["port"] for p in pol["spec"]["ingress"][0]["ports"]] == [port]
    assert r.env("chatbot")["CHATMESH_ROUTER_ADDR"] == f"http://{name('router')}:60052"
    assert r.env("router")["CHATMESH_GRAPH_ADDR"] == f"http://{name('graph')}-headless:60053"


# --------------------------------------------------------------------------------------------
# Security


def _check_pod_security(spec: dict, what: str) -> None:
    psc = spec.get("securityContext") or {}
    assert psc.get("runAsNonRoot") is True, f"{what}: pod runAsNonRoot"
    assert psc.get("runAsUser") == UID and psc.get("runAsGroup") == UID and psc.get("fsGroup") == UID, f"{what}: {psc}"
    assert (psc.get("seccompProfile") or {}).get("type") == "RuntimeDefault", f"{what}: pod seccomp"
    assert spec.get("automountServiceAccountToken") is False, f"{what}: API token mounted"
    assert spec.get("enableServiceLinks") is False, f"{what}: service links inject CHATMESH_*_PORT variables"
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        assert not spec.get(host), f"{what}: {host}"
    for c in spec["containers"] + spec.get("initContainers", []):
        sc = c.get("securityContext") or {}
        where = f"{what}/{c['name']}"
        assert sc.get("runAsNonRoot") is True and sc.get("runAsUser") == UID and sc.get("runAsGroup") == UID, f"{where}: {sc}"
        assert sc.get("allowPrivilegeEscalation") is False, f"{where}: allowPrivilegeEscalation"
        assert sc.get("readOnlyRootFilesystem") is True, f"{where}: readOnlyRootFilesystem"
        assert sc.get("privileged", False) is False, f"{where}: privileged"
        caps = sc.get("capabilities") or {}
        assert caps.get("drop") == ["ALL"] and not caps.get("add"), f"{where}: capabilities {caps}"
        assert (sc.get("seccompProfile") or {}).get("type") == "RuntimeDefault", f"{where}: seccomp"


@pytest.mark.parametrize("component", COMPONENT_IDS)
def test_security_context(rendered: Rendered, component: str) -> None:
    _check_pod_security(rendered.workload(component)["spec"]["template"]["spec"], component)


def test_helm_test_pod_is_hardened_too(rendered: Rendered) -> None:
    p = rendered.get("Pod", f"{fullname()}-test-health")
    assert p["metadata"]["annotations"]["helm.sh/hook"] == "test"
    _check_pod_security(p["spec"], "helm test pod")
    cmd = p["spec"]["containers"][0]["command"]
    assert cmd[:2] == ["chatmesh-chatbot", "health"] and f"http://{name('chatbot')}:50051" in cmd and BY_NAME["chatbot"].fqn in cmd, cmd


def _readme_code_spans(text: str) -> set[str]:
    return set(re.findall(r"`([^`\n]+)`", text))


def test_readme_describes_the_rendered_test_pod(default: Rendered) -> None:
    """The chart README's `helm test` text shows the command the test pod really runs (with the
    release's names replaced by placeholders) and the image it runs in."""
    pod = default.get("Pod", f"{fullname()}-test-health")
    (container,) = pod["spec"]["containers"]
    command = " ".join(container["command"]).replace(fullname(), "<fullname>").replace(":50051", ":<chatbot.port>")
    readme = (CHART / "README.md").read_text()
    spans = _readme_code_spans(readme)
    assert command in spans, f"the chart README does not show the test pod's command `{command}`"
    assert container["image"] == default.container("chatbot")["image"], "the test pod should run in the chatbot image"
    assert "`chatmesh health`" not in readme, "the README names a command the test pod does not run"
    values = (CHART / "values.yaml").read_text()
    assert "`chatmesh health`" not in values and "chatmesh-chatbot health" in values


@pytest.mark.parametrize("component", COMPONENT_IDS)
def test_scratch_and_data_volumes(rendered: Rendered, component: str) -> None:
    spec = rendered.workload(component)["spec"]["template"]["spec"]
    mounts = {m["mountPath"]: m["name"] for m in rendered.container(component)["volumeMounts"]}
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    assert mounts.get("/tmp") == "tmp" and "emptyDir" in volumes["tmp"], (mounts, volumes)
    assert volumes["tmp"]["emptyDir"].get("sizeLimit"), "scratch emptyDir without sizeLimit"
    if BY_NAME[component].backend and component not in EXTERNAL_ENGINES[rendered.label]:
        assert mounts.get("/data") == "data", mounts
    else:
        assert "/data" not in mounts and "data" not in volumes, (mounts, volumes)


@pytest.mark.parametrize("component", COMPONENT_IDS)
def test_resources_requests_and_limits(rendered: Rendered, component: str) -> None:
    res = rendered.container(component)["resources"]
    for res_name in ("cpu", "memory"):
        req, lim = res["requests"][res_name], res["limits"][res_name]
        assert _quantity(req) > 0 and _quantity(req) <= _quantity(lim), f"{component} {res_name}: {req} > {lim}"


def test_production_resources_are_bigger(default: Rendered, production: Rendered) -> None:
    for comp in COMPONENT_IDS:
        d, p = default.container(comp)["resources"], production.container(comp)["resources"]
        assert _quantity(p["requests"]["memory"]) > _quantity(d["requests"]["memory"]), comp


# --------------------------------------------------------------------------------------------
# Availability: PDBs, HPA, rollout, shutdown


@pytest.mark.parametrize("component", COMPONENT_IDS)
def test_pod_disruption_budget(rendered: Rendered, component: str) -> None:
    pdb = rendered.get("PodDisruptionBudget", name(component))
    assert pdb["apiVersion"] == "policy/v1"
    spec = pdb["spec"]
    assert "maxUnavailable" in spec and "minAvailable" not in spec, spec
    assert spec["maxUnavailable"] not in (0, "0%"), "a PDB allowing no disruption blocks every node drain"
    labels = rendered.workload(component)["spec"]["template"]["metadata"]["labels"]
    assert selector_matches(spec["selector"], labels), f"{component}: PDB selects none of its pods"
    for other in COMPONENT_IDS:
        if other != component:
            other_labels = rendered.workload(other)["spec"]["template"]["metadata"]["labels"]
            assert not selector_matches(spec["selector"], other_labels), f"{component}'s PDB also selects {other}"


def test_autoscaling(default: Rendered, production: Rendered) -> None:
    assert default.of_kind("HorizontalPodAutoscaler") == []
    # One chatbot by default: its sessions live in its memory (see test_scale_out.py).
    assert default.workload("chatbot")["spec"]["replicas"] == 1
    assert default.workload("router")["spec"]["replicas"] == 2
    for comp in ("chatbot", "router"):
        hpa = production.get("HorizontalPodAutoscaler", name(comp))
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name(comp)}
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        assert hpa["spec"]["metrics"], "an HPA without metrics"
        # With an HPA, the Deployment must not fight it over replicas.
        assert "replicas" not in production.workload(comp)["spec"]


def test_rollouts_keep_capacity(rendered: Rendered) -> None:
    for comp in STATELESS:
        strat = rendered.workload(comp.name)["spec"]["strategy"]
        assert strat["type"] == "RollingUpdate" and strat["rollingUpdate"]["maxUnavailable"] == 0, strat


@pytest.mark.parametrize("component", COMPONENT_IDS)
def test_drain_fits_in_termination_grace(rendered: Rendered, component: str) -> None:
    env = rendered.env(component)
    drain = int(env["CHATMESH_DRAIN_DELAY"].removesuffix("s"))
    grace = int(env["CHATMESH_SHUTDOWN_GRACE"].removesuffix("s"))
    assert drain >= 1, "without a drain delay the listener closes before Endpoints drop the pod"
    tgps = rendered.workload(component)["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert tgps > drain + grace, f"{component}: terminationGracePeriodSeconds {tgps} <= {drain} + {grace}"


# --------------------------------------------------------------------------------------------
# Storage and Services


@pytest.mark.parametrize("component", [c.name for c in BACKENDS])
def test_statefulset_volume_claim_templates(default: Rendered, component: str) -> None:
    sts = default.workload(component)["spec"]
    (vct,) = sts["volumeClaimTemplates"]
    assert vct["metadata"]["name"] == "data"
    assert vct["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert _quantity(vct["spec"]["resources"]["requests"]["storage"]) >= _quantity("1Gi")
    assert "storageClassName" not in vct["spec"], "default values should use the cluster's default StorageClass"
    assert sts["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    assert sts["serviceName"] == f"{name(component)}-headless"
    volumes = {v["name"] for v in sts["template"]["spec"].get("volumes", [])}
    assert "data" not in volumes, "data must come from the claim template, not a pod volume"


def test_storage_size_and_class_come_from_values() -> None:
    r = render(sets=["graph.persistence.size=3Gi", "graph.persistence.storageClass=fast", "vector.persistence.storageClass=-"])
    graph = r.workload("graph")["spec"]["volumeClaimTemplates"][0]["spec"]
    assert graph["resources"]["requests"]["storage"] == "3Gi" and graph["storageClassName"] == "fast"
    assert r.workload("vector")["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == ""


def test_relational_without_volume_on_external_postgres(production: Rendered) -> None:
    """On PostgreSQL the relational service keeps nothing: a Deployment without a /data volume,
    still behind its headless Service."""
    workload = production.workload("relational")
    assert workload["kind"] == "Deployment"
    assert "volumeClaimTemplates" not in workload["spec"] and "serviceName" not in workload["spec"]
    volumes = {v["name"] for v in workload["spec"]["template"]["spec"]["volumes"]}
    assert volumes == {"tmp"}, volumes
    assert production.env("relational")["CHATMESH_DATABASE_URL"] == ("secret", "chatmesh-secrets", "database-url", False)
    assert production.get("Service", f"{name('relational')}-headless")["spec"]["clusterIP"] == "None"


def test_embedded_data_service_keeps_its_volume_with_persistence_off() -> None:
    r = render(sets=["graph.persistence.enabled=false"])
    sts = r.workload("graph")
    assert sts["kind"] == "StatefulSet" and "volumeClaimTemplates" not in sts["spec"]
    volumes = {v["name"]: v for v in sts["spec"]["template"]["spec"]["volumes"]}
    assert "emptyDir" in volumes["data"]


@pytest.mark.parametrize("component", COMPONENT_IDS)
def test_cluster_ip_service(rendered: Rendered, component: str) -> None:
    comp = BY_NAME[component]
    svc = rendered.get("Service", name(component))["spec"]
    assert svc.get("type", "ClusterIP") == "ClusterIP" and svc.get("clusterIP") != "None"
    assert svc["ports"] == [{"name": "grpc", "port": comp.port, "targetPort": "grpc", "protocol": "TCP", "appProtocol": "grpc"}]
    labels = rendered.workload(component)["spec"]["template"]["metadata"]["labels"]
    assert selector_matches({"matchLabels": svc["selector"]}, labels)
    for other in COMPONENT_IDS:
        if other != component:
            other_labels = rendered.workload(other)["spec"]["template"]["metadata"]["labels"]
            assert not selector_matches({"matchLabels": svc["selector"]}, other_labels), f"{component} Service selects {other}"


def test_headless_services_for_backends_only(rendered: Rendered) -> None:
    headless = {s["metadata"]["name"] for s in rendered.of_kind("Service") if s["spec"].get("clusterIP") == "None"}
    assert headless == {f"{name(c.name)}-headless" for c in BACKENDS}
    for comp in BACKENDS:
        svc = rendered.get("Service", f"{name(comp.name)}-headless")["spec"]
        assert svc["ports"][0]["port"] == comp.port
        assert svc.get("publishNotReadyAddresses", False) is False, "unready replicas must stay out of DNS"
        assert svc["selector"] == rendered.get("Service", name(comp.name))["spec"]["selector"]


# --------------------------------------------------------------------------------------------
# Configuration, Secrets, images


def test_service_wiring(rendered: Rendered) -> None:
    """chatbot dials the router's Service; the router dials each backend's headless Service
    (every replica), on the ports those Services expose."""
    services = {s["metadata"]["name"]: s["spec"]["ports"][0]["port"] for s in rendered.of_kind("Service")}
    addr = re.compile(r"http://([a-z0-9-]+):(\d+)")

    def target(value: str) -> tuple[str, int]:
        m = addr.fullmatch(value)
        assert m, value
        return m.group(1), int(m.group(2))

    host, port = target(rendered.env("chatbot")["CHATMESH_ROUTER_ADDR"])
    assert host == name("router") and services[host] == port
    for comp in BACKENDS:
        host, port = target(rendered.env("router")[f"CHATMESH_{comp.name.upper()}_ADDR"])
        assert host == f"{name(comp.name)}-headless" and services[host] == port, (comp, host, port)


@pytest.mark.parametrize("component", COMPONENT_IDS)
def test_shared_configuration(default: Rendered, component: str) -> None:
    env = default.env(component)
    assert env["CHATMESH_LOG_FORMAT"] == "json"
    assert env["CHATMESH_LOG"] == "info"
    assert env["CHATMESH_DRAIN_DELAY"] == "5s"
    assert env["CHATMESH_SHUTDOWN_GRACE"] == "10s"
    assert env["CHATMESH_MAX_MESSAGE_BYTES"] == "4194304"
    assert env["CHATMESH_SEED_DEMO"] == "false"
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in env and "CHATMESH_AUTH_TOKENS" not in env
    assert env["CHATMESH_LISTEN"] == f"0.0.0.0:{BY_NAME[component].port}"
    if component in ("graph", "vector"):
        assert env["CHATMESH_DATA_DIR"] == "/data"
    if component == "relational":
        assert env["CHATMESH_DATABASE_URL"] == "sqlite:///data/chatmesh.db"


def test_otlp_only_when_configured(default: Rendered, production: Rendered) -> None:
    for comp in COMPONENT_IDS:
        env = production.env(comp)
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.observability.svc:4317"
        assert env["OTEL_SERVICE_NAME"] == f"chatmesh-{comp}"
        assert "OTEL_SERVICE_NAME" not in default.env(comp)


def test_config_change_rolls_the_pods(default: Rendered) -> None:
    changed = render(sets=["log.filter=debug"])
    for comp in COMPONENT_IDS:
        before = default.workload(comp)["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        after = changed.workload(comp)["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        assert before != after, f"{comp}: a ConfigMap change would not restart the pods"
    assert changed.configmap_data()["CHATMESH_LOG"] == "debug"
    assert render(sets=["log.format=human"]).configmap_data()["CHATMESH_LOG_FORMAT"] == "human"


def test_no_secret_by_default(default: Rendered) -> None:
    assert default.of_kind("Secret") == []


def test_chart_made_secret_for_external_postgres_and_tokens() -> None:
    url = "postgres://chatmesh:pw@db.example:5432/chatmesh"
    r = render(sets=["relational.externalDatabase.enabled=true", f"secret.databaseUrl={url}", "secret.authTokens=tok"])
    secret_name = f"{fullname()}-secret"
    assert r.secret_data(secret_name) == {"database-url": url, "auth-tokens": "tok"}
    assert r.env("relational")["CHATMESH_DATABASE_URL"] == ("secret", secret_name, "database-url", False)
    for comp in ("chatbot", "router"):
        assert r.env(comp)["CHATMESH_AUTH_TOKENS"] == ("secret", secret_name, "auth-tokens", True)
    for comp in ("graph", "vector", "relational"):
        assert "CHATMESH_AUTH_TOKENS" not in r.env(comp)
    # The database URL appears nowhere in clear text (not in the ConfigMap, not as an env value).
    assert url not in r.text


def test_existing_secret(production: Rendered) -> None:
    assert production.of_kind("Secret") == []
    for comp in ("chatbot", "router"):
        assert production.env(comp)["CHATMESH_AUTH_TOKENS"] == ("secret", "chatmesh-secrets", "auth-tokens", True)
    r = render(sets=["relational.externalDatabase.enabled=true", "secret.existingSecret=mine", "secret.keys.databaseUrl=url"])
    assert r.of_kind("Secret") == []
    assert r.env("relational")["CHATMESH_DATABASE_URL"] == ("secret", "mine", "url", False)


@pytest.mark.parametrize("component", COMPONENT_IDS)
def test_images(default: Rendered, component: str) -> None:
    assert default.container(component)["image"] == f"ghcr.io/chatmesh/chatmesh-{component}:0.1.0"
    r = render(sets=["image.registry=registry.example:5000", "image.repository=team/cm", "image.tag=1.2.3"])
    assert r.container(component)["image"] == f"registry.example:5000/team/cm-{component}:1.2.3"


def test_labels_follow_conventions(rendered: Rendered) -> None:
    for d in rendered.docs:
        labels = d["metadata"].get("labels") or {}
        assert labels.get("app.kubernetes.io/name") == "chatmesh", d["metadata"]["name"]
        assert labels.get("app.kubernetes.io/instance") == "t"
        assert labels.get("app.kubernetes.io/managed-by") == "Helm"


def test_notes_give_grpcurl_commands() -> None:
    notes = render_notes()
    assert f"port-forward svc/{name('chatbot')} 50051:50051" in notes
    assert "grpcurl -plaintext 127.0.0.1:50051 list" in notes
    for comp in COMPONENTS:
        assert f"""grpcurl -plaintext -d '{{"service":"{comp.fqn}"}}' 127.0.0.1:{comp.port} grpc.health.v1.Health/Check""" in notes, comp
    assert "helm test t" in notes


def test_per_service_probe_override() -> None:
    r = render(sets=["relational.probes.liveness.failureThreshold=30"])
    assert r.container("relational")["livenessProbe"]["failureThreshold"] == 30
    assert r.container("relational")["livenessProbe"]["periodSeconds"] == 10, "the override replaced the whole probe"
    assert r.container("graph")["livenessProbe"]["failureThreshold"] == 6, "the override leaked to another service"


def test_topology_spread_selects_its_own_pods(production: Rendered) -> None:
    """A component's own constraints replace the chart's default ones."""
    for comp in ("chatbot", "router"):
        spec = production.workload(comp)["spec"]["template"]["spec"]
        (tsc,) = spec["topologySpreadConstraints"]
        assert tsc["topologyKey"] == "topology.kubernetes.io/zone"
        labels = production.workload(comp)["spec"]["template"]["metadata"]["labels"]
        assert selector_matches(tsc["labelSelector"], labels)
        other = production.workload("graph")["spec"]["template"]["metadata"]["labels"]
        assert not selector_matches(tsc["labelSelector"], other)


def _spread(r: Rendered, component: str) -> list[dict]:
    return r.workload(component)["spec"]["template"]["spec"].get("topologySpreadConstraints", [])


def test_default_topology_spread_for_multi_replica_deployments(default: Rendered, scale: Rendered) -> None:
    """A Deployment that may run more than one pod spreads over zones and nodes without
    blocking scheduling; a single pod and the embedded data services get no constraint."""
    assert _spread(default, "chatbot") == [], "one chatbot replica needs no spread"
    for comp in ("graph", "vector", "relational"):
        assert _spread(default, comp) == [], comp
    for r, comps in ((default, ["router"]), (scale, COMPONENT_IDS)):
        for comp in comps:
            spread = _spread(r, comp)
            assert [(t["topologyKey"], t["whenUnsatisfiable"], t["maxSkew"]) for t in spread] == [
                ("topology.kubernetes.io/zone", "ScheduleAnyway", 1),
                ("kubernetes.io/hostname", "ScheduleAnyway", 1),
            ], (r.label, comp, spread)
            labels = r.workload(comp)["spec"]["template"]["metadata"]["labels"]
            for t in spread:
                assert selector_matches(t["labelSelector"], labels), (comp, t)
                for other in COMPONENT_IDS:
                    if other != comp:
                        assert not selector_matches(t["labelSelector"], r.workload(other)["spec"]["template"]["metadata"]["labels"])


def test_default_topology_spread_can_be_replaced_or_turned_off(tmp_path) -> None:
    values = tmp_path / "no-spread.yaml"
    values.write_text("defaultTopologySpreadConstraints: []\n")
    off = render([values])
    assert _spread(off, "router") == []
    custom = render(sets=[
        "defaultTopologySpreadConstraints[0].maxSkew=2",
        "defaultTopologySpreadConstraints[0].topologyKey=kubernetes.io/hostname",
        "defaultTopologySpreadConstraints[0].whenUnsatisfiable=DoNotSchedule",
    ])
    assert [(t["maxSkew"], t["whenUnsatisfiable"]) for t in _spread(custom, "router")] == [(2, "DoNotSchedule")]
    own = render(sets=[
        "router.topologySpreadConstraints[0].maxSkew=1",
        "router.topologySpreadConstraints[0].topologyKey=example.com/rack",
        "router.topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway",
    ])
    assert [t["topologyKey"] for t in _spread(own, "router")] == ["example.com/rack"]
    # An embedded data service scaled by hand stays a StatefulSet and gets no default spread.
    assert _spread(render(sets=["graph.replicaCount=2"]), "graph") == []
