"""The `scale` profile, started the way the README says (`docker compose --env-file
compose.scale.env up -d --wait`): two chatbots on two routers, chat sessions, vectors and orders
in one PostgreSQL container. A conversation alternates between the chatbots and survives one of
them being killed, because the session lives in PostgreSQL and not in either process. It runs as
a compose project of its own on free ports, next to the stack under test, and is removed with
its volumes at the end. Needs the `pgvector/pgvector:pg15` image (scripts/docker-base-images.sh
--postgres makes a stand-in where it cannot be pulled)."""

from __future__ import annotations

import uuid

import grpc
import pytest

from chatmesh_external import CHANNEL_OPTIONS, REPO_ROOT, SERVICES
from compose_stack import Compose, free_port, wait_serving
from test_python_client import service_modules

ENV_FILE = REPO_ROOT / "compose.scale.env"
PORT_VARIABLES = (
    "CHATMESH_CHATBOT_PORT",
    "CHATMESH_CHATBOT_2_PORT",
    "CHATMESH_ROUTER_PORT",
    "CHATMESH_ROUTER_2_PORT",
    "CHATMESH_GRAPH_PORT",
    "CHATMESH_VECTOR_PORT",
    "CHATMESH_RELATIONAL_PORT",
    "CHATMESH_POSTGRES_PORT",
)


@pytest.fixture(scope="module")
def scale_stack(generated):
    ports = {name: free_port() for name in PORT_VARIABLES}
    env = {"COMPOSE_PROJECT_NAME": f"chatmesh-scale-{uuid.uuid4().hex[:8]}", **{k: str(v) for k, v in ports.items()}}
    stack = Compose(env=env, env_file=ENV_FILE)
    addrs = {
        "chatbot": f"127.0.0.1:{ports['CHATMESH_CHATBOT_PORT']}",
        "chatbot-2": f"127.0.0.1:{ports['CHATMESH_CHATBOT_2_PORT']}",
    }
    (svc,) = [s for s in SERVICES if s.name == "chatbot"]
    pb2, pb2_grpc = service_modules(generated, svc)
    try:
        # No service named: the profile in the env file decides what runs.
        stack.run("up", "-d", "--wait", "--no-build", "--wait-timeout", "300", timeout=400)
        wait_serving({"chatbot": addrs["chatbot"]})
        channels = {name: grpc.insecure_channel(addr, options=CHANNEL_OPTIONS) for name, addr in addrs.items()}
        stubs = {name: pb2_grpc.ChatServiceStub(channel) for name, channel in channels.items()}
        yield stack, pb2, stubs
        for channel in channels.values():
            channel.close()
    finally:
        stack.run("down", "-v", "--timeout", "10", check=False, timeout=120)


def cited(pb2, stub, session: str, message: str) -> str:
    """The id of the first source a chat turn cites ("" when none)."""
    resp = stub.Chat(pb2.ChatRequest(session_id=session, message=message), timeout=20)
    return resp.sources[0].id if resp.sources else ""


def psql(stack: Compose, sql: str) -> str:
    proc = stack.run("exec", "-T", "postgres", "psql", "-U", "chatmesh", "-d", "chatmesh", "-tAc", sql)
    return proc.stdout.strip()


def test_the_env_file_runs_two_chatbots_and_two_routers_on_postgres(scale_stack) -> None:
    stack, _, _ = scale_stack
    running = set(stack.run("ps", "--services", "--status", "running").stdout.split())
    assert {"chatbot", "chatbot-2", "router", "router-2", "postgres", "graph", "vector", "relational"} <= running, running
    assert stack.inspect("chatbot-2").config["Image"] == stack.inspect("chatbot").config["Image"]
    # Each tier the file points at PostgreSQL has its tables there, seeded.
    assert int(psql(stack, "SELECT count(*) FROM orders")) >= 24
    assert int(psql(stack, "SELECT count(*) FROM chatmesh_vector_collections")) >= 1
    assert psql(stack, "SELECT to_regclass('chat_sessions') IS NOT NULL") == "t"


def test_a_conversation_alternates_between_the_chatbots_and_survives_one(scale_stack) -> None:
    stack, pb2, stubs = scale_stack
    a, b = stubs["chatbot"], stubs["chatbot-2"]
    session = f"scale-{uuid.uuid4().hex[:8]}"
    assert cited(pb2, a, session, "status of order 100002") == "100002", "turn 1 on chatbot"
    # chatbot-2 never saw turn 1 and goes through the other router: only the shared session
    # store can tell it what "that order" is.
    assert cited(pb2, b, session, "who placed that order?") == "100002", "the follow-up on chatbot-2"
    assert cited(pb2, a, session, "status of order 100003") == "100003"

    stack.run("kill", "chatbot")
    assert cited(pb2, b, session, "and who placed that order?") == "100003", "chatbot-2 goes on after chatbot died"
    turns = b.GetSession(pb2.GetSessionRequest(session_id=session), timeout=10).turns
    assert [t.user_message for t in turns] == [
        "status of order 100002",
        "who placed that order?",
        "status of order 100003",
        "and who placed that order?",
    ], "every turn of both chatbots, in order"
    assert psql(stack, f"SELECT count(*) FROM chat_turns WHERE session_id = '{session}'") == "4"
