"""schemathesis against the chatbot's OpenAPI document: generated requests to POST /v1/chat and
POST /v1/chat/stream (valid and invalid) must never get a server error, and every response must
match the documented status codes, content type and schema."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


def test_the_chat_api_conforms_to_its_openapi_document(chatbot_url, tmp_path):
    schemathesis = Path(sys.executable).with_name("schemathesis")
    command = [
        str(schemathesis),
        "run",
        f"{chatbot_url}/openapi.json",
        "--url",
        chatbot_url,
        "--checks",
        CHECKS,
        "--max-examples",
        os.environ.get("CHATMESH_SCHEMATHESIS_EXAMPLES", "60"),
        "--generation-deterministic",
        "--request-timeout",
        "15",
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    output = result.stdout + result.stderr
    print(output)
    assert result.returncode == 0, output
    assert "Tested: 2" in output, output
    cases = re.search(r"(\d+) generated, (\d+) passed", output)
    assert cases and int(cases.group(1)) > 0 and cases.group(1) == cases.group(2), output
