"""One write and one read per data service through the generated stubs, shared by the data and
resilience tests. `stubs` is the conftest fixture: {service: (pb2 module, stub)}."""

from __future__ import annotations

import grpc

COLLECTION = "compose_suite"
DIMENSION = 64
TIMEOUT_S = 10.0


# -- graph --------------------------------------------------------------------------------------


def create_node(stubs, name: str, timeout: float = TIMEOUT_S) -> int:
    pb2, stub = stubs["graph"]
    resp = stub.CreateNode(
        pb2.CreateNodeRequest(labels=["ComposeSuite"], properties={"name": pb2.Value(string_value=name)}),
        timeout=timeout,
    )
    return resp.node.id


def get_node(stubs, node_id: int) -> str:
    """The node's `name`, or "" when there is no such node."""
    pb2, stub = stubs["graph"]
    try:
        resp = stub.GetNode(pb2.GetNodeRequest(id=node_id), timeout=TIMEOUT_S)
    except grpc.RpcError as err:
        if err.code() == grpc.StatusCode.NOT_FOUND:
            return ""
        raise
    return resp.node.properties["name"].string_value


def demo_people(stubs) -> list[str]:
    pb2, stub = stubs["graph"]
    resp = stub.ExecuteQuery(
        pb2.ExecuteQueryRequest(cypher="MATCH (p:Person) RETURN p.name ORDER BY p.name", access_mode=pb2.ACCESS_MODE_READ),
        timeout=TIMEOUT_S,
    )
    return [row.values[0].string_value for row in resp.rows]


# -- vector -------------------------------------------------------------------------------------


def ensure_collection(stubs) -> None:
    pb2, stub = stubs["vector"]
    try:
        stub.CreateCollection(
            pb2.CreateCollectionRequest(name=COLLECTION, dimension=DIMENSION, embedder="hashing-v1"),
            timeout=TIMEOUT_S,
        )
    except grpc.RpcError as err:
        if err.code() != grpc.StatusCode.ALREADY_EXISTS:
            raise


def upsert_text(stubs, object_id: str, text: str, timeout: float = TIMEOUT_S) -> None:
    """Stores `text` under `object_id` (embedded with hashing-v1, which the collection names: the vector image may carry the model, whose vectors have another dimension)."""
    ensure_collection(stubs)
    pb2, stub = stubs["vector"]
    resp = stub.UpsertObjects(
        pb2.UpsertObjectsRequest(collection=COLLECTION, objects=[pb2.VectorObject(id=object_id, text=text)]),
        timeout=timeout,
    )
    assert resp.upserted_count == 1, resp


def get_object(stubs, object_id: str) -> str:
    """The object's text, or "" when there is no such object."""
    pb2, stub = stubs["vector"]
    try:
        resp = stub.GetObject(pb2.GetObjectRequest(collection=COLLECTION, id=object_id), timeout=TIMEOUT_S)
    except grpc.RpcError as err:
        if err.code() == grpc.StatusCode.NOT_FOUND:
            return ""
        raise
    return resp.object.text


# -- relational ---------------------------------------------------------------------------------


def create_order(stubs, customer: str, timeout: float = TIMEOUT_S) -> int:
    pb2, stub = stubs["relational"]
    resp = stub.CreateOrder(
        pb2.CreateOrderRequest(customer=customer, product="compose test", quantity=1, total_cents=100),
        timeout=timeout,
    )
    return resp.order.id


def get_order(stubs, order_id: int) -> str:
    """The order's customer, or "" when there is no such order."""
    pb2, stub = stubs["relational"]
    try:
        resp = stub.GetOrder(pb2.GetOrderRequest(id=order_id), timeout=TIMEOUT_S)
    except grpc.RpcError as err:
        if err.code() == grpc.StatusCode.NOT_FOUND:
            return ""
        raise
    return resp.order.customer


# -- one write and its read-back, by service ----------------------------------------------------


def write(stubs, service: str, key: str, timeout: float = TIMEOUT_S):
    """Writes a record identified by `key`; returns the handle `read` takes."""
    if service == "graph":
        return create_node(stubs, key, timeout)
    if service == "vector":
        upsert_text(stubs, key, key, timeout)
        return key
    if service == "relational":
        return create_order(stubs, key, timeout)
    raise ValueError(service)


def read(stubs, service: str, handle) -> str:
    """The key the record behind `handle` was written with ("" when it is gone)."""
    return {"graph": get_node, "vector": get_object, "relational": get_order}[service](stubs, handle)
