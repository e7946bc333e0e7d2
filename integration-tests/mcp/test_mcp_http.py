"""The official MCP Python client against the router's streamable HTTP endpoint (`/mcp` on the
router's gRPC port) of a running `chatmesh up`: initialize, tools/list, and tools/call of every
tool with real answers from the seeded demo organisation, plus the MCP error cases."""

from __future__ import annotations

import pytest
from mcp import MCPError

from mcp_suite import TOOL_NAMES, call, structured, texts, with_client


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_initialize_and_list_tools(mcp_url: str, mode: str) -> None:
    """Both the initialize handshake ("legacy") and the SDK's default negotiation ("auto")
    connect, and list every tool with an object input schema that function-calling APIs accept
    (no top-level oneOf/anyOf/allOf, one type per property), a title and an output schema."""

    async def work(client):
        assert client.server_info is not None and client.server_info.name == "chatmesh-router"
        assert client.server_capabilities.tools is not None
        return (await client.list_tools()).tools

    tools = with_client(mcp_url, work, mode=mode)
    assert [tool.name for tool in tools] == TOOL_NAMES
    for tool in tools:
        assert tool.description, tool.name
        assert tool.input_schema["type"] == "object", tool.name
        assert tool.input_schema["additionalProperties"] is False, tool.name
        assert not {"oneOf", "anyOf", "allOf"} & tool.input_schema.keys(), tool.name
        for name, prop in tool.input_schema["properties"].items():
            assert isinstance(prop["type"], str), (tool.name, name)
        assert tool.title, tool.name
        assert tool.output_schema and tool.output_schema["type"] == "object", tool.name
    by_name = {tool.name: tool for tool in tools}
    assert by_name["get_order"].input_schema["required"] == ["order_id"]
    # "Exactly one of text and vector" is checked by the server and said in the description.
    search = by_name["vector_search"]
    assert {"text", "vector"} <= search.input_schema["properties"].keys()
    assert "exactly one of `text` and `vector`" in search.description


def test_get_order(mcp_url: str) -> None:
    result = call(mcp_url, "get_order", {"order_id": 100001})
    order = structured(result)["order"]
    assert order["id"] == "100001"
    assert order["customer"] == "Ada Lovelace"
    assert texts(result)[0].startswith("order 100001: Ada Lovelace ordered ")


def test_list_orders_of_one_customer(mcp_url: str) -> None:
    result = call(mcp_url, "list_orders", {"customer": "Grace Hopper", "order_by": "id"})
    listing = structured(result)
    ids = [int(order["id"]) for order in listing["orders"]]
    assert ids == sorted(ids) and len(ids) == int(listing["totalSize"]) > 0
    assert {order["customer"] for order in listing["orders"]} == {"Grace Hopper"}


def test_list_orders_pages(mcp_url: str) -> None:
    first = structured(call(mcp_url, "list_orders", {"page_size": 5, "order_by": "id"}))
    assert len(first["orders"]) == 5 and first["nextPageToken"]
    second = structured(
        call(mcp_url, "list_orders", {"page_size": 5, "order_by": "id", "page_token": first["nextPageToken"]})
    )
    assert int(second["orders"][0]["id"]) > int(first["orders"][-1]["id"])


def test_graph_query_read_only_cypher(mcp_url: str) -> None:
    result = call(
        mcp_url,
        "graph_query",
        {
            "cypher": "MATCH (m:Person)-[:MANAGES]->(p:Person {name: $name}) RETURN m.name AS manager",
            "parameters": {"name": "Alan Turing"},
        },
    )
    answer = structured(result)
    assert answer["columns"] == ["manager"]
    assert answer["rows"] == [{"values": [{"stringValue": "Grace Hopper"}]}]
    assert "manager = Grace Hopper" in texts(result)[0]


def test_graph_query_refuses_writes(mcp_url: str) -> None:
    result = call(mcp_url, "graph_query", {"cypher": "CREATE (n:Person {name: 'Mallory'}) RETURN n"})
    assert result.is_error
    assert "INVALID_ARGUMENT" in texts(result)[0]
    check = structured(
        call(mcp_url, "graph_query", {"cypher": "MATCH (n:Person {name: 'Mallory'}) RETURN count(n) AS c"})
    )
    assert check["rows"] == [{"values": [{"intValue": "0"}]}]


def test_graph_neighbors_by_name(mcp_url: str) -> None:
    result = call(
        mcp_url,
        "graph_neighbors",
        {"node": "Grace Hopper", "direction": "outgoing", "relationship_types": ["MANAGES"]},
    )
    neighbors = structured(result)["neighbors"]
    names = sorted(n["node"]["properties"]["name"]["stringValue"] for n in neighbors)
    assert names == ["Alan Turing", "Barbara Liskov", "Edsger Dijkstra"]
    assert texts(result)[0].startswith("3 neighbours of Grace Hopper (node ")


def test_graph_shortest_path_between_people(mcp_url: str) -> None:
    result = call(
        mcp_url,
        "graph_shortest_path",
        {"from": "Ada Lovelace", "to": "Ken Thompson", "direction": "outgoing", "relationship_types": ["MANAGES"]},
    )
    answer = structured(result)
    assert answer["hopCount"] == 3
    chain = [n["properties"]["name"]["stringValue"] for n in answer["path"]["nodes"]]
    assert chain == ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Ken Thompson"]
    assert texts(result)[0].endswith(
        "Ada Lovelace -[:MANAGES]-> Grace Hopper -[:MANAGES]-> Alan Turing -[:MANAGES]-> Ken Thompson"
    )


def test_vector_search_by_text_then_by_vector(mcp_url: str) -> None:
    by_text = structured(
        call(
            mcp_url,
            "vector_search",
            {"text": "How do I get access to the production cluster?", "k": 3, "include_vectors": True},
        )
    )
    hits = by_text["hits"]
    assert len(hits) == 3
    assert hits[0]["id"] == "doc-001"
    assert "Alan Turing" in hits[0]["text"]
    # The same document's vector finds that document first.
    by_vector = structured(call(mcp_url, "vector_search", {"vector": hits[0]["vector"], "k": 1}))
    assert [hit["id"] for hit in by_vector["hits"]] == ["doc-001"]


def test_vector_search_with_a_payload_filter(mcp_url: str) -> None:
    answer = structured(
        call(mcp_url, "vector_search", {"text": "who is on call", "k": 5, "filter": {"team": "Search"}})
    )
    assert answer["hits"], "the demo has Search documents"
    assert {hit["payload"]["team"]["stringValue"] for hit in answer["hits"]} == {"Search"}


def test_route_picks_the_service_for_a_question(mcp_url: str) -> None:
    result = call(mcp_url, "route", {"query": "What is the status of order 100003?"})
    answer = structured(result)
    assert answer["target"] == "TARGET_RELATIONAL"
    assert answer["relationalOrder"]["order"]["id"] == "100003"
    assert texts(result)[0].startswith("Answered by the relational service, ")

    result = call(mcp_url, "route", {"query": "how do I roll back a deployment", "target": "vector"})
    answer = structured(result)
    assert answer["target"] == "TARGET_VECTOR"
    assert answer["explanation"]["decision"] == "DECISION_HINT"
    assert answer["vectorSearch"]["hits"][0]["id"] == "doc-004"


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("get_order", {}, "argument `order_id` is required"),
        ("get_order", {"order_id": "100001"}, "argument `order_id` must be an integer, not a string"),
        ("vector_search", {"text": "x", "vector": [1.0]}, "only one of `text`, `vector` may be given"),
        ("list_orders", {"statuses": ["lost"]}, "argument `statuses[0]` must be one of"),
        ("graph_neighbors", {"node": "Ada Lovelace", "max_depth": 99}, "argument `max_depth` must be at most 10"),
    ],
)
def test_bad_arguments_are_tool_errors_naming_the_argument(
    mcp_url: str, name: str, arguments: dict, message: str
) -> None:
    result = call(mcp_url, name, arguments)
    assert result.is_error
    assert message in texts(result)[0], texts(result)


def test_backend_errors_come_back_in_band(mcp_url: str) -> None:
    result = call(mcp_url, "get_order", {"order_id": 999999999})
    assert result.is_error
    assert texts(result)[0].startswith("the relational service answered NOT_FOUND"), texts(result)


def test_unknown_tool_is_a_protocol_error(mcp_url: str) -> None:
    with pytest.raises(MCPError) as raised:
        call(mcp_url, "drop_everything", {})
    assert raised.value.code == -32602
    assert "unknown tool" in raised.value.message
