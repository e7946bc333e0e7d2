"""The external-client suite (integration-tests/external), run unchanged against the compose
stack: grpcurl by reflection alone and the Python client generated from proto/, for all five
services. Its tests ask for a `mesh` fixture; here `mesh` is the stack's published ports."""

from __future__ import annotations

# Collected by pytest from this module: every test of the two external modules, and the
# fixtures they need that this suite's conftest does not already provide.
from test_grpcurl import (  # noqa: F401
    grpcurl,
    test_describe_names_every_declared_rpc,
    test_health_check_serving as test_grpcurl_health_check_serving,
    test_health_check_unknown_service_is_not_found,
    test_list_shows_service_and_health,
)
from test_python_client import (  # noqa: F401
    channels,
    test_every_generated_module_imports,
    test_generated_descriptor_matches_proto_source,
    test_generated_stub_call_gets_grpc_status,
    test_health_check_serving,
    test_reflected_contract_matches_generated_client,
    test_reflection_lists_service,
)
