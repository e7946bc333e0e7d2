"""Real traffic through the generated Python client against the three data services in their
containers: the demo data was seeded, and a write is readable back."""

from __future__ import annotations

import uuid

import grpc
import pytest

from stores import create_node, create_order, demo_people, get_node, get_object, get_order, upsert_text


def test_graph_demo_organisation_is_seeded(stubs) -> None:
    names = demo_people(stubs)
    assert "Alan Turing" in names and "Grace Hopper" in names, names


def test_graph_write_then_read(stubs) -> None:
    name = f"compose-{uuid.uuid4().hex[:8]}"
    node_id = create_node(stubs, name)
    assert get_node(stubs, node_id) == name


def test_vector_demo_collection_answers_text_search(stubs) -> None:
    pb2, stub = stubs["vector"]
    resp = stub.Search(pb2.SearchRequest(collection="docs", near_text="who approves production cluster access", k=3, include_payload=True), timeout=15)
    assert len(resp.hits) == 3, resp
    assert all(hit.id.startswith("doc-") for hit in resp.hits), [h.id for h in resp.hits]
    scores = [hit.score for hit in resp.hits]
    assert scores == sorted(scores, reverse=True), scores


def test_vector_write_then_read(stubs) -> None:
    object_id = f"compose-{uuid.uuid4().hex[:8]}"
    text = f"a note written through the compose stack ({object_id})"
    upsert_text(stubs, object_id, text)
    assert get_object(stubs, object_id) == text


def test_relational_demo_orders_are_seeded(stubs) -> None:
    pb2, stub = stubs["relational"]
    resp = stub.ListOrders(pb2.ListOrdersRequest(filter=pb2.OrderFilter(customer="Ada Lovelace"), page_size=100), timeout=15)
    assert len(resp.orders) >= 3, resp
    assert all(o.customer == "Ada Lovelace" for o in resp.orders), resp


def test_relational_write_then_read(stubs) -> None:
    order_id = create_order(stubs, "compose-suite")
    assert get_order(stubs, order_id) == "compose-suite"


@pytest.mark.parametrize(
    "service, expected",
    [("graph", "INVALID_ARGUMENT"), ("vector", "NOT_FOUND"), ("relational", "INVALID_ARGUMENT")],
)
def test_errors_cross_the_container_boundary_as_precise_codes(stubs, service: str, expected: str) -> None:
    pb2, stub = stubs[service]
    calls = {
        "graph": lambda: stub.ExecuteQuery(pb2.ExecuteQueryRequest(cypher="MATCH (n RETURN n"), timeout=15),
        "vector": lambda: stub.Search(pb2.SearchRequest(collection="no_such_collection", near_text="x", k=1), timeout=15),
        "relational": lambda: stub.CreateOrder(pb2.CreateOrderRequest(customer="", product="p", quantity=1), timeout=15),
    }
    with pytest.raises(grpc.RpcError) as err:
        calls[service]()
    assert err.value.code().name == expected, (err.value.code(), err.value.details())
