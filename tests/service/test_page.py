"""The chat page in a real headless Chromium (Debian's chromium and chromium-driver, driven by
Selenium): a Chinese request shows picks, "只要英文的" leaves only English ones, item fields are
text (never HTML), right-to-left titles keep their direction. A screenshot is kept under the
test's output folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.server]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if CHROMIUM is None or DRIVER is None:
        pytest.fail(
            "the page test needs Debian's chromium and chromium-driver (.ci/run installs them)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,1600",
                 "--lang=zh-CN", "--disable-dev-shm-usage"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _turns(driver: object) -> list[object]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, "#conversation .turn.assistant")  # type: ignore[attr-defined]


def _send(driver: object, text: str, turns_before: int) -> object:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    box = driver.find_element(By.ID, "message")  # type: ignore[attr-defined]
    box.send_keys(text)
    driver.find_element(By.ID, "send").click()  # type: ignore[attr-defined]
    WebDriverWait(driver, 60).until(lambda d: len(_turns(d)) > turns_before)
    return _turns(driver)[-1]


def test_chinese_request_then_only_english(browser: object, served: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = browser
    driver.get(f"{served}/")  # type: ignore[attr-defined]
    Select(driver.find_element(By.ID, "lang")).select_by_value("zh")  # type: ignore[attr-defined]
    first = _send(driver, "推荐一些足球新闻", 0)
    cards = first.find_elements(By.CSS_SELECTOR, ".card")  # type: ignore[attr-defined]
    assert cards, first.text  # type: ignore[attr-defined]
    languages = {c.get_attribute("data-language") for c in cards}
    assert len(languages) > 1  # Chinese, English and other picks before the refinement

    refine = next(
        b
        for b in driver.find_elements(By.CSS_SELECTOR, "#refinements button")  # type: ignore[attr-defined]
        if b.text == "只要英文的"
    )
    refine.click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 60).until(lambda d: len(_turns(d)) > 1)
    second = _turns(driver)[-1]
    english = second.find_elements(By.CSS_SELECTOR, ".card")  # type: ignore[attr-defined]
    assert english and {c.get_attribute("data-language") for c in english} == {"en"}

    # The item titled "<img src=x onerror=alert(1)> football" is shown as text, not markup.
    titles = [c.find_element(By.CSS_SELECTOR, ".title").text for c in english]
    assert any("<img src=x onerror=alert(1)>" in t for t in titles), titles
    assert not driver.find_elements(By.CSS_SELECTOR, ".card img")  # type: ignore[attr-defined]

    # "why" expands to the stage scores.
    why = english[0].find_element(By.CSS_SELECTOR, "details.why summary")
    why.click()
    scores = english[0].find_element(By.CSS_SELECTOR, ".scores").text
    assert "final" in scores
    # and to the explanation's evidence: English items for a Chinese reader carry a cultural
    # note with its source
    assert "culture" in scores and "[catalog " in scores, scores

    out = Path(__file__).resolve().parents[2] / "test-output"
    out.mkdir(exist_ok=True)
    driver.save_screenshot(str(out / "chat-page.png"))  # type: ignore[attr-defined]
    driver.save_screenshot(str(tmp_path / "chat-page.png"))  # type: ignore[attr-defined]


def test_right_to_left_titles_render_right_to_left(browser: object, served: str) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(f"{served}/")  # type: ignore[attr-defined]
    driver.execute_script("sessionStorage.clear()")  # type: ignore[attr-defined]
    driver.get(f"{served}/")  # type: ignore[attr-defined]  (a new conversation)
    reply = _send(driver, "كرة القدم", 0)
    titles = reply.find_elements(By.CSS_SELECTOR, ".card .title")  # type: ignore[attr-defined]
    arabic = [t for t in titles if "منتخب" in t.text]
    assert arabic
    direction = driver.execute_script(  # type: ignore[attr-defined]
        "return getComputedStyle(arguments[0]).direction", arabic[0]
    )
    assert direction == "rtl"


def test_cards_show_each_pick_in_the_readers_language(browser: object, served: str) -> None:
    """A Chinese reader sees the catalog's Chinese title and summary, labelled, with the
    original below; an English title nobody translated is labelled as such."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = browser
    driver.get(f"{served}/")  # type: ignore[attr-defined]
    driver.execute_script("sessionStorage.clear()")  # type: ignore[attr-defined]
    driver.get(f"{served}/")  # type: ignore[attr-defined]  (a new conversation)
    Select(driver.find_element(By.ID, "lang")).select_by_value("zh")  # type: ignore[attr-defined]
    reply = _send(driver, "只要英文的足球新闻", 0)
    cards = {
        c.get_attribute("data-item-id"): c
        for c in reply.find_elements(By.CSS_SELECTOR, ".card")  # type: ignore[attr-defined]
    }
    cup = cards["en-cup"]
    assert cup.get_attribute("data-display-source") == "catalog"
    assert cup.find_element(By.CSS_SELECTOR, ".title").text == "足球：杯赛决赛对阵出炉"
    assert (
        cup.find_element(By.CSS_SELECTOR, ".summary").text == "两支球队将在周六对决。球票已售罄。"
    )
    assert cup.find_element(By.CSS_SELECTOR, ".source").text == "目录提供的译文"
    original = cup.find_element(By.CSS_SELECTOR, ".original").text
    assert original == "Football: the cup final line-up is set"
    plain = cards["en-foot"]
    assert (
        plain.find_element(By.CSS_SELECTOR, ".title").text == "Cup final ends in a penalty shootout"
    )
    assert plain.find_element(By.CSS_SELECTOR, ".source").text == "原文（未翻译）"
