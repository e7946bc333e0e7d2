"""The chatbot's web page in headless Chromium (Debian's chromium + chromium-driver, driven by
selenium): type a question, watch the workflow steps stream in (POST /v1/chat/stream), see the
answer, its sources with their kind, snippet and score, the backend that answered and the path
the turn took with each hop's time; on a chatbot that asks for a token, the page says so, takes
the token and then answers. A screenshot of the page goes to $CHATMESH_ARTIFACTS (default
target/artifacts) for a person to look at."""

from __future__ import annotations

import os
import re
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from conftest import REPO_ROOT, SECURED_TOKEN


ARTIFACTS = Path(os.environ.get("CHATMESH_ARTIFACTS", REPO_ROOT / "target" / "artifacts"))


def ask(browser, question: str, turn: int):
    """Sends a question and waits until its turn is done (answered or failed)."""
    box = browser.find_element(By.ID, "message")
    box.send_keys(question, Keys.ENTER)
    WebDriverWait(browser, 15).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, "#log .turn.done")) >= turn
    )
    return browser.find_elements(By.CSS_SELECTOR, "#log .turn")[turn - 1]


def sources(turn):
    return [
        (
            s.find_element(By.CLASS_NAME, "kind").text,
            s.find_element(By.CLASS_NAME, "title").text,
            s.find_element(By.CLASS_NAME, "id").text,
        )
        for s in turn.find_elements(By.CSS_SELECTOR, ".sources .source")
    ]


def test_a_question_shows_the_answer_its_sources_and_the_backend(browser, chatbot_url):
    browser.get(chatbot_url + "/")
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.ID, "message")))
    assert browser.title == "chatmesh"

    turn = ask(browser, "Who manages Alan Turing?", 1)
    assert "Grace Hopper" in turn.find_element(By.CLASS_NAME, "answer").text
    found = sources(turn)
    assert found and found[0][:2] == ("Graph node", "Grace Hopper"), found
    assert "answered by graph" in turn.find_element(By.CLASS_NAME, "backend").text
    # The workflow's steps, each with its time, and the path: chatbot -> router -> graph.
    steps = [s.text for s in turn.find_elements(By.CSS_SELECTOR, ".steps .step")]
    assert [s.split(" ")[0] for s in steps] == ["understand", "route", "respond"], steps
    assert all(re.search(r" [0-9.]+ ms$", s) for s in steps), steps
    path = turn.find_element(By.CLASS_NAME, "path").text
    assert re.fullmatch(r"chatbot [0-9.]+ ms → router [0-9.]+ ms → graph [0-9.]+ ms", path), path
    assert not turn.find_elements(By.CLASS_NAME, "busy"), "the busy indicator is gone"

    # The page keeps one session: "her" is the manager just named.
    turn = ask(browser, "and who manages her?", 2)
    assert "Ada Lovelace" in turn.find_element(By.CLASS_NAME, "answer").text

    turn = ask(browser, "status of order 100001", 3)
    assert sources(turn)[0] == ("Order", "Order 100001", "#100001"), sources(turn)
    assert "answered by relational" in turn.find_element(By.CLASS_NAME, "backend").text

    # Documents come with their snippet and score.
    turn = ask(browser, "how do I reset my password?", 4)
    document = turn.find_element(By.CSS_SELECTOR, ".sources .source")
    assert document.find_element(By.CLASS_NAME, "kind").text == "Document"
    assert re.fullmatch(r"score 0\.\d\d", document.find_element(By.CLASS_NAME, "score").text)
    assert "password" in document.find_element(By.CLASS_NAME, "snippet").text.lower()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "web-page.png"
    browser.set_window_size(1000, 1400)
    assert browser.save_screenshot(str(shot)), shot
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


def test_a_chatbot_that_asks_for_a_token_gets_it_from_the_page(browser, secured_chatbot_url):
    browser.get(secured_chatbot_url + "/")
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.ID, "message")))
    browser.execute_script("sessionStorage.clear()")
    browser.refresh()
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.ID, "message")))

    turn = ask(browser, "Who manages Alan Turing?", 1)
    assert "asks for an access token" in turn.find_element(By.CLASS_NAME, "answer").text
    assert browser.find_element(By.ID, "auth").get_attribute("open") is not None

    token = browser.find_element(By.ID, "token")
    token.send_keys("not-the-token", Keys.TAB)
    turn = ask(browser, "Who manages Alan Turing?", 2)
    assert "was refused" in turn.find_element(By.CLASS_NAME, "answer").text

    token.clear()
    token.send_keys(SECURED_TOKEN, Keys.TAB)
    turn = ask(browser, "Who manages Alan Turing?", 3)
    assert "Grace Hopper" in turn.find_element(By.CLASS_NAME, "answer").text
    assert "answered by graph" in turn.find_element(By.CLASS_NAME, "backend").text
    # The form is usable again once the answer is in.
    assert browser.find_element(By.ID, "send").is_enabled()
    assert browser.execute_script("return sessionStorage.getItem('chatmesh-token')") == SECURED_TOKEN
