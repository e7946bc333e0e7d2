"""Session fixtures: the chart rendered with its default values and with values-production.yaml."""

from __future__ import annotations

import pytest

from chart import PRODUCTION_VALUES, VALUE_SETS, Rendered, render

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
    return render()


@pytest.fixture(scope="session")
def production() -> Rendered:
    return render([PRODUCTION_VALUES])


@pytest.fixture(scope="session", params=list(VALUE_SETS))
def rendered(request: pytest.FixtureRequest, default: Rendered, production: Rendered) -> Rendered:
    """Both renderings, for the properties that must hold whatever the values."""
    return {"default": default, "production": production}[request.param]
