"""The `postgres` profile: the relational service on a PostgreSQL container. It runs as a
compose project of its own on free ports, next to the stack under test, and is removed with its
volumes at the end. Needs the `pgvector/pgvector:pg15` image (scripts/docker-base-images.sh
--postgres makes a stand-in where it cannot be pulled)."""

from __future__ import annotations

import uuid

import grpc
import pytest

from chatmesh_external import CHANNEL_OPTIONS, SERVICES
from compose_stack import Compose, free_port, wait_serving
from stores import create_order, get_order
from test_python_client import service_modules

DATABASE_URL = "postgres://chatmesh:chatmesh@postgres:5432/chatmesh"


@pytest.fixture(scope="module")
def pg_stack(generated):
    relational_port, postgres_port = free_port(), free_port()
    stack = Compose(
        env={
            "COMPOSE_PROJECT_NAME": f"chatmesh-pg-{uuid.uuid4().hex[:8]}",
            "CHATMESH_RELATIONAL_PORT": str(relational_port),
            "CHATMESH_POSTGRES_PORT": str(postgres_port),
            "CHATMESH_RELATIONAL_DATABASE_URL": DATABASE_URL,
        },
        profiles=("postgres",),
    )
    addr = f"127.0.0.1:{relational_port}"
    try:
        stack.run("up", "-d", "--wait", "--no-build", "postgres", "relational", timeout=300)
        wait_serving({"relational": addr})
        (svc,) = [s for s in SERVICES if s.name == "relational"]
        pb2, pb2_grpc = service_modules(generated, svc)
        with grpc.insecure_channel(addr, options=CHANNEL_OPTIONS) as channel:
            yield stack, addr, {"relational": (pb2, pb2_grpc.RelationalServiceStub(channel))}
    finally:
        stack.run("down", "-v", "--timeout", "10", check=False, timeout=120)


def psql(stack: Compose, sql: str) -> str:
    proc = stack.run("exec", "-T", "postgres", "psql", "-U", "chatmesh", "-d", "chatmesh", "-tAc", sql)
    return proc.stdout.strip()


def test_relational_runs_on_postgres(pg_stack) -> None:
    stack, _, stubs = pg_stack
    env = stack.inspect("relational").config["Env"]
    assert f"CHATMESH_DATABASE_URL={DATABASE_URL}" in env, env
    # Seeded into PostgreSQL, not into a SQLite file.
    assert int(psql(stack, "SELECT count(*) FROM orders")) >= 24


def test_orders_written_through_the_service_are_rows_in_postgres(pg_stack) -> None:
    stack, addr, stubs = pg_stack
    customer = f"pg-{uuid.uuid4().hex[:8]}"
    order_id = create_order(stubs, customer)
    assert psql(stack, f"SELECT customer FROM orders WHERE id = {int(order_id)}") == customer
    # The relational container holds no state of its own here: a restart reads the row back.
    stack.run("restart", "relational")
    wait_serving({"relational": addr})
    assert get_order(stubs, order_id) == customer
