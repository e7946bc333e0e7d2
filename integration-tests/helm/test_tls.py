"""tls.enabled: every service gets its own certificate from the Secret (and no other service's
key), the CHATMESH_TLS_* environment pointing at it, and exec probes running the service's own
`health` subcommand instead of the kubelet's gRPC probes, which cannot present a certificate.
Off by default: no TLS environment, native gRPC probes."""

from __future__ import annotations

import pytest

from chart import COMPONENTS, Component, helm, render, template_args

TLS = ["tls.enabled=true", "tls.secretName=chatmesh-tls"]
DIR = "/etc/chatmesh/tls"


@pytest.fixture(scope="module")
def rendered():
    return render(sets=TLS)


@pytest.mark.parametrize("component", COMPONENTS, ids=str)
def test_each_service_mounts_only_its_own_certificate(rendered, component: Component) -> None:
    spec = rendered.workload(component.name)["spec"]["template"]["spec"]
    volume = next(v for v in spec["volumes"] if v["name"] == "tls")
    assert volume["secret"]["secretName"] == "chatmesh-tls"
    keys = sorted(item["key"] for item in volume["secret"]["items"])
    assert keys == sorted(["ca.pem", f"{component.name}.pem", f"{component.name}.key"])
    mount = next(m for m in rendered.container(component.name)["volumeMounts"] if m["name"] == "tls")
    assert mount["mountPath"] == DIR and mount["readOnly"] is True
    assert "subPath" not in mount, "a subPath mount never sees a rotated Secret"


@pytest.mark.parametrize("component", COMPONENTS, ids=str)
def test_each_service_is_pointed_at_its_files(rendered, component: Component) -> None:
    env = rendered.env(component.name)
    assert env["CHATMESH_TLS_CA"] == f"{DIR}/ca.pem"
    assert env["CHATMESH_TLS_CERT"] == f"{DIR}/{component.name}.pem"
    assert env["CHATMESH_TLS_KEY"] == f"{DIR}/{component.name}.key"
    assert env["CHATMESH_TLS_RELOAD_INTERVAL"] == "10s"
    assert ("CHATMESH_TLS_CLIENT_AUTH" in env) == (component.name == "chatbot")


@pytest.mark.parametrize("component", COMPONENTS, ids=str)
def test_probes_run_the_health_subcommand(rendered, component: Component) -> None:
    container = rendered.container(component.name)
    binary = f"/usr/local/bin/chatmesh-{component.name}"
    for probe in ("startupProbe", "readinessProbe"):
        assert container[probe]["exec"]["command"] == [binary, "health", "--quiet"], probe
        assert "grpc" not in container[probe]
    assert container["livenessProbe"]["exec"]["command"] == [binary, "health", "--quiet", "--service", ""]


def test_off_by_default() -> None:
    default = render()
    for component in COMPONENTS:
        env = default.env(component.name)
        assert not [k for k in env if k.startswith("CHATMESH_TLS_")], component.name
        assert "grpc" in default.container(component.name)["readinessProbe"]


def test_enabled_without_a_secret_is_refused() -> None:
    proc = helm(*template_args(sets=["tls.enabled=true"]), check=False)
    assert proc.returncode != 0
    assert "tls.secretName" in proc.stderr
