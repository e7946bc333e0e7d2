"""The chart's access-control and limit values: static tokens reach chatbot and router from the
Secret through secretKeyRef (never a ConfigMap), JWT keys are mounted from the named Secret with
the audience set, the limits land in the shared ConfigMap, and incomplete JWT settings are
refused at `helm template` time."""

from __future__ import annotations

import pytest

from chart import helm, render, template_args

JWT = [
    "auth.jwt.secretName=chatmesh-jwt",
    "auth.jwt.rs256PublicKeyKey=rs256.pub",
    "auth.jwt.hs256SecretKey=hs256",
    "auth.jwt.audience=chatmesh",
    "auth.jwt.issuer=https://issuer.example",
]


def test_tokens_come_from_the_secret_for_the_edge_services_only() -> None:
    rendered = render(sets=["secret.authTokens=tok-1"])
    for component in ("chatbot", "router"):
        env = rendered.env(component)
        kind, _, key, _ = env["CHATMESH_AUTH_TOKENS"]
        assert (kind, key) == ("secret", "auth-tokens")
    for component in ("graph", "vector", "relational"):
        assert "CHATMESH_AUTH_TOKENS" not in rendered.env(component)
    assert "tok-1" not in "".join(rendered.configmap_data().values())


def test_off_by_default() -> None:
    rendered = render()
    for component in ("chatbot", "router"):
        env = rendered.env(component)
        assert not any(name.startswith(("CHATMESH_AUTH", "CHATMESH_JWT")) for name in env)


def test_jwt_keys_are_mounted_with_the_audience() -> None:
    rendered = render(sets=JWT)
    for component in ("chatbot", "router"):
        env = rendered.env(component)
        assert env["CHATMESH_JWT_RS256_PUBLIC_KEY_FILE"] == "/etc/chatmesh/jwt/rs256.pub"
        assert env["CHATMESH_JWT_HS256_SECRET_FILE"] == "/etc/chatmesh/jwt/hs256"
        assert env["CHATMESH_JWT_AUDIENCE"] == "chatmesh"
        assert env["CHATMESH_JWT_ISSUER"] == "https://issuer.example"
        mounts = {m["name"]: m for m in rendered.container(component)["volumeMounts"]}
        assert mounts["jwt"]["mountPath"] == "/etc/chatmesh/jwt" and mounts["jwt"]["readOnly"]
        volumes = {v["name"]: v for v in rendered.workload(component)["spec"]["template"]["spec"]["volumes"]}
        assert volumes["jwt"]["secret"]["secretName"] == "chatmesh-jwt"
    assert "CHATMESH_JWT_AUDIENCE" not in rendered.env("graph")


def test_limits_reach_every_service() -> None:
    data = render(
        sets=["limits.maxConcurrentRequests=64", "limits.maxQueuedRequests=8", "auth.ratePerClient=3"]
    ).configmap_data()
    assert data["CHATMESH_MAX_CONCURRENT_REQUESTS"] == "64"
    assert data["CHATMESH_MAX_QUEUED_REQUESTS"] == "8"
    assert data["CHATMESH_MAX_CONCURRENT_STREAMS"] == "256"
    assert data["CHATMESH_RATE_LIMIT_PER_CLIENT"] == "3"


def test_cross_origin_pages_are_named_for_the_edge() -> None:
    assert "CHATMESH_CORS_ALLOW_ORIGINS" not in render().configmap_data()
    rendered = render(sets=["auth.corsAllowOrigins={https://app.example.com,http://localhost:3000}"])
    for component in ("chatbot", "router"):
        origins = rendered.env(component)["CHATMESH_CORS_ALLOW_ORIGINS"]
        assert origins == "https://app.example.com,http://localhost:3000"


@pytest.mark.parametrize(
    "sets, fragment",
    [
        (["auth.corsAllowOrigins={https://app.example.com/page}"], "auth.corsAllowOrigins"),
        (["auth.jwt.secretName=chatmesh-jwt", "auth.jwt.audience=chatmesh"], "auth.jwt"),
        (["auth.jwt.secretName=chatmesh-jwt", "auth.jwt.hs256SecretKey=hs256"], "auth.jwt.audience"),
        (["auth.ratePerClient=-1"], "auth.ratePerClient"),
        (["limits.maxConcurrentStreams=0"], "limits.maxConcurrentStreams"),
    ],
)
def test_incomplete_or_bad_values_are_refused(sets: list[str], fragment: str) -> None:
    proc = helm(*template_args(sets=sets), check=False)
    assert proc.returncode != 0
    assert fragment in proc.stderr, proc.stderr
