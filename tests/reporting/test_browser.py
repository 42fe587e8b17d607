"""The HTML report in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`)
driven by Selenium opens a report written by the CLI, as a user would from a file.

Skipped, with the reason, only where the browser, its driver or the selenium package is missing;
.ci/run installs them and sets TUNENET_BROWSER_REQUIRED=1, which turns that skip into a failure.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .helpers import copy_run

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# The network is closed on CI and developer machines: nothing may try to reach it.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = (390, 844)
DESKTOP = (1280, 900)


def _missing() -> str | None:
    """What keeps the browser test from running, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (make install-test installs it)"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.exists():
            return f"{path} is missing (apt-get install {package})"
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium for the module, with a fresh profile and its console log kept."""
    missing = _missing()
    if missing:
        if os.environ.get("TUNENET_BROWSER_REQUIRED") == "1":
            pytest.fail(f"browser test required but cannot run: {missing}")
        pytest.skip(f"no browser to test the HTML report in: {missing}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    profile = tempfile.mkdtemp(dir=tmp_path_factory.mktemp("chromium"))
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: Selenium Manager then downloads nothing.
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(
    driver: Any, page: Path, size: tuple[int, int] = DESKTOP, scheme: str = "light"
) -> None:
    """Open `page` as file:// at `size` (a phone's viewport when narrow) in a colour scheme."""
    width, height = size
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    media = {"features": [{"name": "prefers-color-scheme", "value": scheme}]}
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", media)
    driver.get_log("browser")  # empty the log: errors() then reads this page's only
    driver.get(page.as_uri())


def errors(driver: Any) -> list[str]:
    """Console errors and uncaught exceptions logged since the last call."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def trials_table(driver: Any) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.XPATH, "//h2[starts-with(., 'Trials')]/following::table[1]")


def header(table: Any, name: str) -> Any:
    from selenium.webdriver.common.by import By

    return table.find_element(By.XPATH, f"./thead/tr/th[normalize-space(.)='{name}']/button")


def column(driver: Any, table: Any, index: int) -> list[str]:
    return driver.execute_script(
        "return Array.from(arguments[0].tBodies[0].rows, r => r.cells[arguments[1]].textContent)",
        table,
        index,
    )


def aria_sorts(driver: Any, table: Any) -> dict[str, str]:
    """{header text: aria-sort} of the headers that carry it."""
    return driver.execute_script(
        "return Object.fromEntries(Array.from(arguments[0].tHead.rows[0].cells)"
        ".filter(th => th.hasAttribute('aria-sort'))"
        ".map(th => [th.textContent, th.getAttribute('aria-sort')]))",
        table,
    )


@pytest.fixture(scope="module")
def single_page(capacity_rendered: tuple[Path, str]) -> Path:
    """The capacity run's report.html with its plots (a failed trial among six, a capacity table),
    as `tunenet report` writes it; drawn once per session (conftest)."""
    return capacity_rendered[0] / "report" / "report.html"


@pytest.fixture(scope="module")
def effects_page(rendered: Path) -> Path:
    """The worked example's report.html with its plots and hyperparameter effects tables."""
    return rendered / "report" / "report.html"


@pytest.fixture(scope="module")
def multi_page(tmp_path_factory: pytest.TempPathFactory, cli_module) -> Path:
    """`tunenet report runs/ --format html --out all.html` over two fixture runs (without plots:
    the pages above have them, and drawing them is the slow part)."""
    root = tmp_path_factory.mktemp("multi")
    for name in ("worked-example", "capacity"):
        copy_run(name, root / "runs")
    page = root / "all.html"
    result = cli_module("report", root / "runs", "--format", "html", "--out", page, "--no-plots")
    assert result.exit_code == 0, result.output
    return page


@pytest.fixture(scope="module")
def cli_module():
    """The CLI in-process, for module-scoped fixtures (conftest's `cli` is per test)."""
    from typer.testing import CliRunner

    from tunenet.cli import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize(
    ("size", "scheme"), [(DESKTOP, "light"), (PHONE, "dark")], ids=["1280px-light", "390px-dark"]
)
def test_page_opens_without_errors_and_shows_the_best_row(
    browser: Any, single_page: Path, size: tuple[int, int], scheme: str
) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, single_page, size, scheme)
    best = browser.find_element(By.CSS_SELECTOR, "tr.best")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", best)
    assert best.is_displayed()
    assert best.find_element(By.XPATH, "./td[2]").text == "05"  # the capacity run's best trial
    backgrounds = browser.execute_script(
        "return Array.from(arguments[0].parentNode.rows,"
        " r => getComputedStyle(r.cells[0]).backgroundColor)",
        best,
    )
    assert backgrounds[0] not in backgrounds[1:]  # the best row is marked, not just classed
    assert errors(browser) == []


def test_a_click_on_a_header_sorts_and_moves_aria_sort(browser: Any, single_page: Path) -> None:
    open_page(browser, single_page)
    table = trials_table(browser)
    assert aria_sorts(browser, table) == {"rank": "ascending"}
    assert column(browser, table, 0) == ["1", "2", "3", "4", "5", ""]  # best first, failed last

    header(table, "val_accuracy").click()
    assert aria_sorts(browser, table) == {"val_accuracy": "ascending"}
    # val_accuracy is maximized: ascending puts the worst first; the empty cell stays last
    assert column(browser, table, 0) == ["5", "4", "3", "2", "1", ""]

    header(table, "val_accuracy").click()
    assert aria_sorts(browser, table) == {"val_accuracy": "descending"}
    assert column(browser, table, 0) == ["1", "2", "3", "4", "5", ""]
    assert errors(browser) == []


def test_enter_on_a_focused_header_sorts(browser: Any, single_page: Path) -> None:
    from selenium.webdriver.common.keys import Keys

    open_page(browser, single_page)
    table = trials_table(browser)
    header(table, "trial").send_keys(Keys.ENTER)
    assert aria_sorts(browser, table) == {"trial": "ascending"}
    assert column(browser, table, 1) == sorted(column(browser, table, 1))
    assert errors(browser) == []


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["390px", "1280px"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("page", ["single_page", "effects_page", "multi_page"])
def test_the_page_never_scrolls_sideways(
    browser: Any, request: pytest.FixtureRequest, page: str, size: tuple[int, int], scheme: str
) -> None:
    open_page(browser, request.getfixturevalue(page), size, scheme)
    width, inner, widest_box = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth,"
        " Math.max(...Array.from(document.querySelectorAll('.scroll'), b => b.scrollWidth))]"
    )
    assert width <= inner <= size[0]
    if size == PHONE:
        assert widest_box > size[0]  # a wide table does exist: it scrolls in its own box
    assert errors(browser) == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_colours_follow_the_system_scheme(browser: Any, single_page: Path, scheme: str) -> None:
    open_page(browser, single_page, scheme=scheme)
    text, background = browser.execute_script(
        "var s = getComputedStyle(document.body); return [s.color, s.backgroundColor]"
    )
    assert (lightness(background) > lightness(text)) == (scheme == "light")
    assert abs(lightness(background) - lightness(text)) > 0.5  # readable either way
    assert errors(browser) == []


def lightness(css_colour: str) -> float:
    """0 (black) to 1 (white), from getComputedStyle's "rgb(r, g, b)"."""
    red, green, blue = (
        int(part) for part in css_colour[css_colour.index("(") + 1 : -1].split(",")[:3]
    )
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def test_each_summary_link_leads_to_its_run(browser: Any, multi_page: Path) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, multi_page)
    links = browser.find_elements(By.CSS_SELECTOR, "table a[href^='#run-']")
    assert [link.text for link in links] == ["capacity", "worked-example"]
    for link in reversed(links):  # the last first, so that each click scrolls
        target = link.get_attribute("href").split("#", 1)[1]
        link.click()
        assert browser.execute_script("return location.hash") == f"#{target}"
        section = browser.find_element(By.ID, target)
        assert section.find_element(By.TAG_NAME, "h1").text == link.text
        top = browser.execute_script("return arguments[0].getBoundingClientRect().top", section)
        assert abs(top) < 2  # scrolled to the top of the window
    assert errors(browser) == []
