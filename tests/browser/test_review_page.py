"""The review page in a real headless Chromium, against ``dualread serve`` and stand-in model
servers that leave the sample statement with a closing-balance dispute: drop the file, open it,
settle the dispute by typing (opening + sum = closing turns green as you type, then on the saved
revision) and by the keyboard, and download the CSV; and a file of two accounts, a tab each."""

from __future__ import annotations

import csv
import io
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from dualread.outputs import render_csv
from dualread.testing.standins.launch import RunningStandin
from tests.browser.conftest import Screenshot
from tests.service.conftest import StartServe
from tests.service.support import (
    OCR_CLOSING,
    REPO_ROOT,
    SAMPLE,
    TRUE_CLOSING,
    VISUAL_CLOSING,
    disputed_servers,
    settings_env,
    truth_of,
    wait_done,
)

pytestmark = [pytest.mark.browser, pytest.mark.contract, pytest.mark.slow]

WAIT_S = 180.0
TWO_ACCOUNTS = REPO_ROOT / "fixtures" / "corpus" / "d24-two-currencies-en-GB.pdf"

# Drop files on the page as a person would: a DataTransfer holding the files of a scratch
# <input type=file> (which Selenium can fill), dispatched as a drop on the drop zone.
DROP_FILES = """
const [zone, input] = arguments;
const transfer = new DataTransfer();
for (const file of input.files) transfer.items.add(file);
const drop = {dataTransfer: transfer, bubbles: true, cancelable: true};
zone.dispatchEvent(new DragEvent("drop", drop));
"""
SCRATCH_INPUT = """
const input = document.createElement("input");
input.type = "file"; input.multiple = true; input.id = "scratch-files";
document.body.appendChild(input);
return input;
"""


def arithmetic(browser: webdriver.Chrome) -> str:
    """The colour of the opening + sum = closing line: ok, bad or unknown."""
    classes = browser.find_element(By.ID, "arithmetic").get_attribute("class") or ""
    return next(c for c in ("ok", "bad", "unknown") if c in classes.split())


def wait_for(browser: webdriver.Chrome, condition: Callable[[webdriver.Chrome], object]) -> None:
    """Wait until ``condition`` holds; a page reloading under it is not an error."""
    WebDriverWait(
        browser,
        WAIT_S,
        poll_frequency=0.2,
        # chromedriver reports an element replaced mid-query either as stale or as an inspector
        # error ("Node with given id does not belong to the document"): both mean "look again".
        ignored_exceptions=(
            StaleElementReferenceException,
            NoSuchElementException,
            WebDriverException,
        ),
    ).until(condition)


def test_settle_a_dispute_in_the_browser(
    browser: webdriver.Chrome,
    screenshot: Screenshot,
    downloads: Path,
    serve: StartServe,
    tmp_path: Path,
    standin_server: Callable[..., RunningStandin],
    oracle_file: Callable[..., Path],
) -> None:
    settings = disputed_servers(tmp_path, standin_server, oracle_file)
    server = serve(env=settings_env(settings))
    second = tmp_path / "second-statement.pdf"
    shutil.copy(SAMPLE, second)

    # 1. Drop two statements on the job list, with the third voter off so the two routes' tie
    #    stays a dispute.
    browser.get(server.url + "/")
    browser.find_element(By.CSS_SELECTOR, "#upload summary").click()
    Select(browser.find_element(By.NAME, "engine")).select_by_visible_text("vlm")
    Select(browser.find_element(By.NAME, "third_voter")).select_by_visible_text("off")
    scratch = browser.execute_script(SCRATCH_INPUT)
    scratch.send_keys(f"{SAMPLE}\n{second}")
    browser.execute_script(DROP_FILES, browser.find_element(By.ID, "upload"), scratch)
    wait_for(
        browser,
        lambda b: len(b.find_elements(By.CSS_SELECTOR, "table.jobs tr[data-status=done]")) == 2,
    )
    rows = browser.find_elements(By.CSS_SELECTOR, "table.jobs tbody tr")
    assert all("unresolved" in row.text and "✗" not in row.text for row in rows)
    screenshot("job-list")

    # 2. Open the first statement: the dispute shows both routes' values, the page is framed.
    browser.find_element(By.LINK_TEXT, "statement.pdf").click()
    wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "li.dispute.current"))
    dispute = browser.find_element(By.CSS_SELECTOR, "li.dispute.current")
    assert dispute.get_attribute("data-field") == "closing_balance"
    picks = [b.text for b in dispute.find_elements(By.CSS_SELECTOR, "button.pick")]
    assert any(VISUAL_CLOSING in p and "visual" in p for p in picks)
    assert any(OCR_CLOSING in p and "ocr" in p for p in picks)
    assert browser.find_elements(By.CSS_SELECTOR, "figure.page:not([hidden]) .hl")
    assert arithmetic(browser) == "unknown"  # the closing balance is null while disputed
    page_image = browser.find_element(By.CSS_SELECTOR, "figure.page:not([hidden]) img")
    wait_for(browser, lambda b: b.execute_script("return arguments[0].naturalWidth", page_image))
    screenshot("review-dispute")

    # 3. Type a correction: the arithmetic follows every keystroke, then the saved revision.
    field = dispute.find_element(By.CSS_SELECTOR, "form.correct input")
    field.send_keys(VISUAL_CLOSING)
    assert arithmetic(browser) == "bad"
    field.clear()
    field.send_keys("6.877,58")  # typed the way the statement prints it
    assert arithmetic(browser) == "ok"
    field.send_keys(Keys.ENTER)
    wait_for(browser, lambda b: "revision 1" in b.find_element(By.CLASS_NAME, "rev").text)
    assert arithmetic(browser) == "ok"
    assert browser.find_element(By.ID, "status").text == "resolved"
    assert browser.find_element(By.ID, "f-closing_balance").text == TRUE_CLOSING
    assert not browser.find_elements(By.CSS_SELECTOR, "li.dispute")
    assert "reviewer" in browser.find_element(By.CLASS_NAME, "revisions").text
    screenshot("review-settled")

    # 4. Download the CSV of the current revision and compare it.
    job_id = browser.find_element(By.ID, "review").get_attribute("data-job")
    browser.find_element(By.ID, "download-csv").click()
    target = downloads / "statement.csv"
    deadline = time.monotonic() + 30
    while not target.exists():
        assert time.monotonic() < deadline, "the CSV download did not arrive"
        time.sleep(0.1)
    downloaded = target.read_bytes().decode("utf-8")  # as sent: CSV lines end in CRLF
    latest = httpx.get(f"{server.url}/v1/extractions/{job_id}", timeout=30).json()["result"]
    assert downloaded == render_csv([latest])
    table = list(csv.DictReader(io.StringIO(downloaded)))
    expected = truth_of(SAMPLE)["transactions"]
    assert [(r["date"], r["amount"]) for r in table] == [(t["date"], t["amount"]) for t in expected]

    # 5. The second statement by keyboard alone: j/k move between disputes, 2 picks route B's.
    browser.get(server.url + "/")
    browser.find_element(By.LINK_TEXT, "second-statement.pdf").click()
    wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "li.dispute.current"))
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("j")
    body.send_keys("k")
    current = browser.find_element(By.CSS_SELECTOR, "li.dispute.current")
    assert current.get_attribute("data-field") == "closing_balance"
    body.send_keys("2")
    wait_for(browser, lambda b: "revision 1" in b.find_element(By.CLASS_NAME, "rev").text)
    assert browser.find_element(By.ID, "f-closing_balance").text == OCR_CLOSING
    assert arithmetic(browser) == "bad"  # route B's value does not balance, and it shows
    assert browser.find_element(By.ID, "status").text == "unresolved"


def test_each_account_of_a_file_has_its_own_tab(
    browser: webdriver.Chrome, screenshot: Screenshot, serve: StartServe
) -> None:
    """A file of two accounts, read by the embedded engine: a tab per account, named by its
    IBAN, each showing its own statement."""
    server = serve()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        files = [("files", (TWO_ACCOUNTS.name, TWO_ACCOUNTS.read_bytes()))]
        queued = client.post("/v1/extractions", files=files, data={"engine": "embedded"})
        job_id = queued.json()["jobs"][0]["id"]
        result = wait_done(client, job_id, WAIT_S)["result"]
    browser.get(f"{server.url}/jobs/{job_id}")
    tabs = browser.find_elements(By.CSS_SELECTOR, ".account-tabs a")
    assert [tab.text for tab in tabs] == [d["iban"] for d in result]
    tabs[1].click()
    wait_for(browser, lambda b: b.find_element(By.ID, "f-currency").text == "USD")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.rows tbody tr")
    assert [r.get_attribute("data-amount") for r in rows] == [
        t["amount"] for t in result[1]["transactions"]
    ]
    current = browser.find_element(By.CSS_SELECTOR, ".account-tabs a[aria-current]")
    assert current.text == result[1]["iban"]
    shown = browser.find_element(By.CSS_SELECTOR, "figure.page:not([hidden])")
    assert shown.get_attribute("data-page") == "2"  # where the second account's rows are
    screenshot("review-second-account")
