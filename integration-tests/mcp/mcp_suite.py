"""Shared helpers for the MCP suite (no pytest fixtures here): running a coroutine against a
connected client, and reading tool results."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from mcp import Client, StdioServerParameters

T = TypeVar("T")

# Every tool the router offers, in the order tools/list gives them (ascending name).
TOOL_NAMES = [
    "get_order",
    "graph_neighbors",
    "graph_query",
    "graph_shortest_path",
    "list_orders",
    "route",
    "vector_search",
]

# Generous: the first call through a fresh `chatmesh up` may wait for backend connections.
READ_TIMEOUT_S = 30.0


def with_client(
    server: str | StdioServerParameters,
    work: Callable[[Client], Awaitable[T]],
    mode: str = "legacy",
) -> T:
    """Connects an official MCP client to `server`, runs `work(client)`, disconnects."""

    async def run() -> T:
        async with Client(server, mode=mode, read_timeout_seconds=READ_TIMEOUT_S) as client:
            return await work(client)

    try:
        return asyncio.run(run())
    except BaseExceptionGroup as group:
        # The client's task group wraps what went wrong; a test wants the error itself.
        while isinstance(group, BaseExceptionGroup) and len(group.exceptions) == 1:
            group = group.exceptions[0]
        raise group from None


def texts(result: Any) -> list[str]:
    """The text blocks of a tools/call result."""
    return [block.text for block in result.content if getattr(block, "type", None) == "text"]


def call(server: str | StdioServerParameters, name: str, arguments: dict[str, Any]) -> Any:
    """Calls one tool and returns its result (an MCP CallToolResult)."""
    return with_client(server, lambda client: client.call_tool(name, arguments))


def structured(result: Any) -> dict[str, Any]:
    """The structured content of a successful result, which also travels as JSON text."""
    assert not result.is_error, texts(result)
    assert result.structured_content is not None, texts(result)
    as_text = [json.loads(t) for t in texts(result) if t.startswith("{")]
    assert result.structured_content in as_text, "the structured content is also sent as text"
    return result.structured_content
