"""gRPC-Web without a proxy: `buf curl --protocol grpcweb` against the chatbot of `chatmesh up`.

buf's client speaks gRPC-Web over HTTP/1.1 as a browser library does. Chat is answered from the
graph with its sources; ChatStream's server-streamed steps arrive in order, the answer last; the
health service answers too (every port speaks gRPC-Web). The schema comes from proto/ (buf's
reflection client needs a bidirectional stream, which gRPC-Web cannot carry).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from chatmesh_external import INSTALL_HINT, REPO_ROOT, TOOLS_BIN, client_env


def buf_curl(addr: str, method: str, body: dict, schema: Path = REPO_ROOT / "proto") -> list[dict]:
    buf = TOOLS_BIN / "buf"
    assert buf.exists(), f"buf not found at {buf}; {INSTALL_HINT}"
    cmd = [
        str(buf), "curl", "--protocol", "grpcweb", "--schema", str(schema),
        "--data", json.dumps(body), f"http://{addr}/{method}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=client_env(), cwd=REPO_ROOT)
    assert proc.returncode == 0, f"buf curl {method} failed ({proc.returncode}):\n{proc.stderr}{proc.stdout}"
    # One JSON document per response message, as buf curl prints them.
    decoder, text, messages = json.JSONDecoder(), proc.stdout.strip(), []
    while text:
        message, end = decoder.raw_decode(text)
        messages.append(message)
        text = text[end:].lstrip()
    return messages


def test_chat_over_grpc_web(mesh: dict[str, str]) -> None:
    [answer] = buf_curl(
        mesh["chatbot"],
        "chatmesh.chat.v1.ChatService/Chat",
        {"sessionId": "grpc-web-1", "message": "Who manages Alan Turing?"},
    )
    assert answer.get("target") == "TARGET_GRAPH", answer
    assert not answer.get("fallback"), answer
    assert "Grace Hopper" in answer["answer"], answer
    assert answer["sources"][0]["title"] == "Grace Hopper", answer


def test_chat_stream_over_grpc_web(mesh: dict[str, str]) -> None:
    messages = buf_curl(
        mesh["chatbot"],
        "chatmesh.chat.v1.ChatService/ChatStream",
        {"sessionId": "grpc-web-2", "message": "What is the status of order 100001?"},
    )
    assert len(messages) >= 3, messages
    assert all("workflowEvent" in m for m in messages[:-1]), messages
    final = messages[-1].get("finalAnswer")
    assert final is not None, messages
    assert final.get("target") == "TARGET_RELATIONAL", final
    assert not final.get("fallback"), final


def test_health_over_grpc_web_on_every_port(mesh: dict[str, str], tmp_path: Path) -> None:
    # grpc.health.v1 is not in proto/; its two messages and Check, as the gRPC health protocol
    # defines them, are enough for buf curl's schema.
    schema = tmp_path / "grpc" / "health" / "v1" / "health.proto"
    schema.parent.mkdir(parents=True)
    schema.write_text(
        'syntax = "proto3";\npackage grpc.health.v1;\n'
        "message HealthCheckRequest { string service = 1; }\n"
        "message HealthCheckResponse {\n"
        "  enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }\n"
        "  ServingStatus status = 1;\n}\n"
        "service Health { rpc Check(HealthCheckRequest) returns (HealthCheckResponse); }\n"
    )
    for name, addr in mesh.items():
        [status] = buf_curl(addr, "grpc.health.v1.Health/Check", {}, schema=tmp_path)
        assert status == {"status": "SERVING"}, (name, status)
