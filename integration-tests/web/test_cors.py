"""A page from another web origin calls ChatService over gRPC-Web, in headless Chromium with
the browser's own fetch: a chatbot started with `--cors-allow-origin <that origin>` answers it
(the browser's preflight passes, the page reads the answer and a gRPC status from the headers);
the suite's chatbot, started without the flag, is refused by the browser."""

from __future__ import annotations

import base64
import http.server
import threading

import pytest

from conftest import Service, wait_answering

PAGE = b"<!doctype html><title>another origin</title><p>a page that is not the chatbot's"

# The page's call: one gRPC-Web message POSTed with fetch, the answer's bytes and headers back.
FETCH = """
const [url, body64, done] = arguments;
const body = Uint8Array.from(atob(body64), c => c.charCodeAt(0));
fetch(url, {method: "POST", body,
            headers: {"content-type": "application/grpc-web+proto", "x-grpc-web": "1"}})
  .then(async r => done({ok: true, status: r.status, grpcStatus: r.headers.get("grpc-status"),
                         body: btoa(String.fromCharCode(...new Uint8Array(await r.arrayBuffer())))}))
  .catch(e => done({ok: false, error: String(e)}));
"""


@pytest.fixture(scope="module")
def origin():
    """A plain web server on another port of 127.0.0.1: another origin than any chatbot's."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def open_chatbot_url(mesh, origin):
    """A chatbot on the suite's router that lets pages of `origin` call it."""
    log_dir = mesh["data"] / "cors"
    log_dir.mkdir()
    chatbot = Service("chatbot", ["--router-addr", mesh["router"], "--cors-allow-origin", origin], log_dir)
    try:
        wait_answering(chatbot.url)
        yield chatbot.url
    finally:
        chatbot.stop()


def chat_request(session: str, message: str) -> str:
    """A ChatRequest (session_id = 1, message = 2) in one gRPC-Web frame, base64 for the page."""
    encoded = b""
    for field, text in ((1, session), (2, message)):
        raw = text.encode()
        assert len(raw) < 128, "one-byte lengths only"
        encoded += bytes([field << 3 | 2, len(raw)]) + raw
    return base64.b64encode(b"\x00" + len(encoded).to_bytes(4, "big") + encoded).decode()


def frames(body64: str) -> tuple[list[bytes], str]:
    """The messages and the trailers of a gRPC-Web answer."""
    body, messages, trailers = base64.b64decode(body64), [], ""
    while body:
        flag, length = body[0], int.from_bytes(body[1:5], "big")
        frame, body = body[5 : 5 + length], body[5 + length :]
        if flag & 0x80:
            trailers += frame.decode()
        else:
            messages.append(frame)
    return messages, trailers


def call_from_page(browser, page: str, chatbot_url: str, request: str) -> dict:
    browser.get(page)
    return browser.execute_async_script(FETCH, chatbot_url + "/chatmesh.chat.v1.ChatService/Chat", request)


def test_a_named_origin_calls_the_chatbot_from_its_page(browser, origin, open_chatbot_url):
    answer = call_from_page(browser, origin, open_chatbot_url, chat_request("cors-1", "Who manages Alan Turing?"))
    assert answer["ok"], answer
    assert answer["status"] == 200, answer
    messages, trailers = frames(answer["body"])
    assert "grpc-status:0" in trailers.replace(" ", ""), trailers
    assert len(messages) == 1 and b"Grace Hopper" in messages[0], messages

    # A refusal without a body carries its status in the headers: the page may read it.
    refused = call_from_page(browser, origin, open_chatbot_url, chat_request("cors-2", ""))
    assert refused["ok"], refused
    assert refused["grpcStatus"] == "3", refused


def test_a_chatbot_without_the_flag_is_refused_by_the_browser(browser, origin, chatbot_url):
    answer = call_from_page(browser, origin, chatbot_url, chat_request("cors-3", "Who manages Alan Turing?"))
    assert not answer["ok"], answer
    assert "Failed to fetch" in answer["error"], answer
