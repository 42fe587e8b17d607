"""The dashboard parts of the HTML report in headless Chromium (test_browser.py's driver and
pages): figures with their captions shown, rank and trial in view while the trials table scrolls
sideways, the runs summary sorted by a click, dark mode without light boxes behind the plots,
and a phone showing each run's best objective and verdict in the summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import test_browser as shared
from .test_browser import PHONE, column, errors, lightness, open_page

# test_browser.py's browser and pages, shared here (the pages come from session fixtures)
browser = shared.browser
cli_module = shared.cli_module
single_page = shared.single_page
effects_page = shared.effects_page
multi_page = shared.multi_page


def test_every_figure_shows_its_image_heading_and_caption(browser: Any, effects_page: Path) -> None:
    open_page(browser, effects_page)
    figures = browser.execute_script(
        "return Array.from(document.querySelectorAll('figure'), f => {"
        " f.scrollIntoView(); var img = f.querySelector('img'), c = f.querySelector('figcaption');"
        " var r = c.getBoundingClientRect();"
        " return {heading: f.querySelector('h3').innerText, caption: c.innerText,"
        "  loaded: img.complete && img.naturalWidth > 0, alt: img.alt,"
        "  shown: r.height > 0 && getComputedStyle(c).visibility === 'visible'}; })"
    )
    assert len(figures) == len(list((effects_page.parent / "plots").glob("*.png"))) >= 8
    for figure in figures:
        assert figure["loaded"] and figure["shown"], figure
        assert figure["heading"] and figure["alt"].startswith(figure["heading"] + ": ")
        assert "How to read it: " in figure["caption"]
    assert errors(browser) == []


def test_rank_and_trial_stay_in_view_when_the_trials_table_scrolls(
    browser: Any, single_page: Path
) -> None:
    open_page(browser, single_page, PHONE)
    before, after = browser.execute_script(
        "var table = document.querySelector('table[data-table=trials]');"
        "var box = table.parentNode; box.scrollIntoView();"
        "function where() { var row = table.tBodies[0].rows[0];"
        " return [0, 1, 2].map(i => row.cells[i].getBoundingClientRect().left); }"
        "var before = where(); box.scrollLeft = 300; return [before, where()];"
    )
    assert after[0] == before[0] and after[1] == before[1]  # rank and trial stay put
    assert after[2] < before[2] - 250  # the status column moved away under them
    assert before[1] > before[0]  # side by side, not on top of each other
    assert errors(browser) == []


def test_a_click_on_a_summary_header_sorts_the_runs(browser: Any, multi_page: Path) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, multi_page)
    summary = browser.find_element(By.CSS_SELECTOR, "table[data-table=summary]")
    assert column(browser, summary, 0) == ["capacity", "worked-example"]
    best = summary.find_element(By.XPATH, "./thead/tr/th[normalize-space(.)='best objective']")
    best.find_element(By.TAG_NAME, "button").click()  # ascending: 0.87 before 0.935
    assert column(browser, summary, 0) == ["worked-example", "capacity"]
    assert best.get_attribute("aria-sort") == "ascending"
    best.find_element(By.TAG_NAME, "button").click()
    assert column(browser, summary, 0) == ["capacity", "worked-example"]
    assert errors(browser) == []


def test_dark_mode_has_a_dark_page_and_no_light_box_behind_a_plot(
    browser: Any, effects_page: Path
) -> None:
    open_page(browser, effects_page, scheme="dark")
    page = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
    assert lightness(page) < 0.15
    # each plot's boxes (figure, frame, image) and the image's own corner pixel: transparent or dark
    boxes, corners = browser.execute_script(
        "var boxes = [], corners = [];"
        "document.querySelectorAll('figure').forEach(f => {"
        " [f, f.querySelector('.plot-box'), f.querySelector('img')].forEach(e =>"
        "  boxes.push(getComputedStyle(e).backgroundColor));"
        " var img = f.querySelector('img'), c = document.createElement('canvas');"
        " c.width = img.naturalWidth; c.height = img.naturalHeight;"
        " var g = c.getContext('2d'); g.drawImage(img, 0, 0);"
        " corners.push(Array.from(g.getImageData(2, 2, 1, 1).data)); });"
        "return [boxes, corners];"
    )
    assert len(corners) == len(list((effects_page.parent / "plots").glob("*.png")))
    for box in boxes:
        assert box == "rgba(0, 0, 0, 0)" or lightness(box) < 0.25, box
    for red, green, blue, alpha in corners:  # the PNG itself is drawn transparent
        assert alpha == 0 or (red + green + blue) / 3 < 64, (red, green, blue, alpha)
    assert errors(browser) == []


def test_a_phone_shows_each_runs_best_objective_and_verdict(browser: Any, multi_page: Path) -> None:
    open_page(browser, multi_page, PHONE)
    shown = browser.execute_script(
        "var table = document.querySelector('table[data-table=summary]');"
        "return Array.from(table.tHead.rows[0].cells).filter(th => th.offsetWidth > 0)"
        ".map(th => [th.innerText.replace(/\\W+$/, ''), th.getBoundingClientRect().right]);"
    )
    assert [name for name, _ in shown] == ["run", "best objective", "verdict"]
    assert all(right <= PHONE[0] for _, right in shown)  # in view without scrolling
    texts = browser.execute_script(
        "return Array.from(document.querySelector('table[data-table=summary]').tBodies[0].rows,"
        " r => [r.cells[4].innerText, r.cells[5].innerText])"
    )
    assert texts[0][0] == "val_accuracy 0.935" and texts[0][1].startswith("best 05:")
    assert errors(browser) == []


def test_the_pointer_over_a_trial_in_a_plot_finds_its_title(
    browser: Any, effects_page: Path
) -> None:
    open_page(browser, effects_page)
    found = browser.execute_script(
        "return Array.from(document.querySelectorAll('svg.areas'), svg => {"
        " var circle = svg.querySelector('circle'); circle.scrollIntoView({block: 'center'});"
        " var r = circle.getBoundingClientRect(), img = svg.previousElementSibling.getBoundingClientRect();"
        " var hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
        " return {hit: hit === circle, title: circle.querySelector('title').textContent,"
        "  inside: r.left >= img.left && r.right <= img.right + 1 && r.top >= img.top - 1"
        "   && r.bottom <= img.bottom + 1}; })"
    )
    assert len(found) >= 3  # the history, the bias-variance scatter, parallel coordinates, ...
    for area in found:
        assert area["hit"] and area["inside"], area
        assert area["title"].startswith("trial ")
    assert errors(browser) == []
