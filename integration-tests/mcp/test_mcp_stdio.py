"""`chatmesh mcp` (the stdio server desktop agents start) with the official MCP Python client:
it offers exactly the tools and schemas of the router's /mcp endpoint, and its calls reach the
seeded demo data through the router."""

from __future__ import annotations

from mcp import StdioServerParameters

from mcp_suite import TOOL_NAMES, call, structured, texts, with_client


def _listing(server) -> list[tuple[str, str, dict]]:
    async def work(client):
        return [(t.name, t.description, t.input_schema) for t in (await client.list_tools()).tools]

    return with_client(server, work)


def test_stdio_lists_the_same_tools_and_schemas_as_http(stdio_server: StdioServerParameters, mcp_url: str) -> None:
    over_stdio = _listing(stdio_server)
    assert [name for name, _, _ in over_stdio] == TOOL_NAMES
    assert over_stdio == _listing(mcp_url)


def test_stdio_calls_reach_the_demo_data(stdio_server: StdioServerParameters) -> None:
    order = structured(call(stdio_server, "get_order", {"order_id": 100002}))["order"]
    assert order["id"] == "100002"
    result = call(stdio_server, "graph_neighbors", {"node": "Platform", "label": "Team", "relationship_types": ["OWNS"]})
    names = sorted(n["node"]["properties"]["name"]["stringValue"] for n in structured(result)["neighbors"])
    assert names == ["auth-service", "gateway"]


def test_stdio_reports_bad_arguments_as_tool_errors(stdio_server: StdioServerParameters) -> None:
    result = call(stdio_server, "get_order", {"order_id": 0})
    assert result.is_error
    assert "argument `order_id` must be at least 1" in texts(result)[0]
