"""Session fixtures: the chart rendered with its default values, values-production.yaml and
values-scale.yaml."""

from __future__ import annotations

import pytest

from chart import PRODUCTION_VALUES, SCALE_VALUES, VALUE_SETS, Rendered, render

try:
    import kubernetes_validate  # noqa: F401
    import yaml  # noqa: F401
except ImportError as exc:  # running with an interpreter that lacks the tools
    raise ImportError(
        f"{exc}; the Helm suite needs kubernetes-validate and PyYAML: run scripts/install-tools.sh "
        "and run it with .tools/venv/bin/pytest"
    ) from exc

@pytest.fixture(scope="session")
def default() -> Rendered:
    return render(label="default")


@pytest.fixture(scope="session")
def production() -> Rendered:
    return render([PRODUCTION_VALUES], label="production")


@pytest.fixture(scope="session")
def scale() -> Rendered:
    return render([SCALE_VALUES], label="scale")


@pytest.fixture(scope="session", params=list(VALUE_SETS))
def rendered(request: pytest.FixtureRequest, default: Rendered, production: Rendered, scale: Rendered) -> Rendered:
    """Every values file's rendering, for the properties that must hold whatever the values."""
    return {"default": default, "production": production, "scale": scale}[request.param]
