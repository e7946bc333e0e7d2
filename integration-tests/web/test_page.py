"""The chatbot's web page in headless Chromium (Debian's chromium + chromium-driver, driven by
selenium): type a question, see the answer, its sources and the backend that answered; on a
chatbot that asks for a token, the page says so, takes the token and then answers."""

from __future__ import annotations

import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service as DriverService
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from conftest import SECURED_TOKEN


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.fail("chromium and chromium-driver are needed: run scripts/install-tools.sh")
    options = Options()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=DriverService(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def ask(browser, question: str, turn: int):
    box = browser.find_element(By.ID, "message")
    box.send_keys(question, Keys.ENTER)
    WebDriverWait(browser, 15).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, "#log .turn")) >= turn
    )
    return browser.find_elements(By.CSS_SELECTOR, "#log .turn")[turn - 1]


def test_a_question_shows_the_answer_its_sources_and_the_backend(browser, chatbot_url):
    browser.get(chatbot_url + "/")
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.ID, "message")))
    assert browser.title == "chatmesh"

    turn = ask(browser, "Who manages Alan Turing?", 1)
    assert "Grace Hopper" in turn.find_element(By.CLASS_NAME, "answer").text
    sources = [s.text for s in turn.find_elements(By.CSS_SELECTOR, ".sources .source")]
    assert sources and sources[0].startswith("graph_node ") and sources[0].endswith(": Grace Hopper"), sources
    assert "answered by graph" in turn.find_element(By.CLASS_NAME, "backend").text

    # The page keeps one session: "her" is the manager just named.
    turn = ask(browser, "and who manages her?", 2)
    assert "Ada Lovelace" in turn.find_element(By.CLASS_NAME, "answer").text

    turn = ask(browser, "status of order 100001", 3)
    sources = [s.text for s in turn.find_elements(By.CSS_SELECTOR, ".sources .source")]
    assert sources[0] == "order 100001: Order 100001", sources
    assert "answered by relational" in turn.find_element(By.CLASS_NAME, "backend").text


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
