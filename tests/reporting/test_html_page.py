"""The HTML page without a browser: the best row marked, the sorted column announced with
aria-sort, a page for phones and dark mode, nothing from the network, and the page of several runs
whose summary links to each run's section."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from tunenet.reporting.html import render_html, run_anchors

from .helpers import build, copy_run


class Page(HTMLParser):
    """The parts of a page the tests look at: tables (header attributes, rows with their
    attributes and cell texts), links, ids and <meta> tags."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.ids: list[str] = []
        self.metas: list[dict] = []
        self._cell: list[str] | None = None
        self._link: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "id" in found:
            self.ids.append(found["id"] or "")
        if tag == "meta":
            self.metas.append(found)
        elif tag == "table":
            self.tables.append({"class": found.get("class"), "headers": [], "rows": []})
        elif tag == "th":
            self.tables[-1]["headers"].append(found)
            self._cell = []
        elif tag == "tr" and self.tables[-1]["headers"] and self._in_body:
            self.tables[-1]["rows"].append({"class": found.get("class"), "cells": []})
        elif tag == "button" and self._cell is not None:
            self.tables[-1]["headers"][-1]["button"] = True
        elif tag == "td":
            self._cell = []
        elif tag == "a":
            self._link = [found.get("href") or ""]

    _in_body = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "thead":
            self._in_body = True
        elif tag == "table":
            self._in_body = False
        elif tag == "th" and self._cell is not None:
            self.tables[-1]["headers"][-1]["text"] = "".join(self._cell)
            self._cell = None
        elif tag == "td" and self._cell is not None:
            self.tables[-1]["rows"][-1]["cells"].append("".join(self._cell))
            self._cell = None
        elif tag == "a" and self._link is not None:
            self.links.append((self._link[0], "".join(self._link[1:])))
            self._link = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._link is not None:
            self._link.append(data)

    def table_after(self, text: str, heading: str) -> dict:
        """The first table after the <h2> whose text starts with `heading`."""
        before = text[: text.index(f"<h2>{heading}")].count("<table")
        return self.tables[before]


def capacity_page(tmp_path: Path) -> str:
    return render_html([build(copy_run("capacity", tmp_path))])


def test_the_best_trials_row_is_marked(tmp_path: Path) -> None:
    text = capacity_page(tmp_path)
    trials = Page(text).table_after(text, "Trials")
    best = [row for row in trials["rows"] if row["class"] == "best"]
    assert [row["cells"][1] for row in best] == ["05"]  # the capacity run's best trial
    assert "tr.best td{background:" in text  # and it shows


def test_the_trials_table_opens_sorted_by_rank_and_says_so(tmp_path: Path) -> None:
    text = capacity_page(tmp_path)
    trials = Page(text).table_after(text, "Trials")
    sorted_by = [h["text"] for h in trials["headers"] if h.get("aria-sort")]
    assert sorted_by == ["rank"]
    assert trials["headers"][0]["aria-sort"] == "ascending"
    assert [row["cells"][0] for row in trials["rows"]] == ["1", "2", "3", "4", "5", ""]
    assert trials["class"] == "sortable"
    assert all(h.get("button") for h in trials["headers"])  # reachable by Tab, sorted by Enter


def test_no_sortable_table_claims_more_than_one_sorted_column(tmp_path: Path) -> None:
    text = render_html([build(copy_run("worked-example", tmp_path))])
    page = Page(text)
    sortable = [table for table in page.tables if table["class"] == "sortable"]
    assert len(sortable) == 2  # the trials and the effects summary
    for table in sortable:
        assert all(h["text"] for h in table["headers"])
        assert len([h for h in table["headers"] if h.get("aria-sort")]) <= 1
    assert text.count('aria-sort="') == 1  # effects come ordered by evidence, not by a column


def test_the_page_is_for_phones_and_dark_mode_and_loads_nothing(tmp_path: Path) -> None:
    text = capacity_page(tmp_path)
    page = Page(text)
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in page.metas
    assert "@media (prefers-color-scheme:dark)" in text
    assert ".scroll{overflow-x:auto" in text and "img{max-width:100%" in text
    assert text.count('<div class="scroll"><table') == len(page.tables)  # every table boxed
    for external in ("http://", "https://", "<link", 'src="http', "url(", "@import"):
        assert external not in text


def test_a_directory_of_runs_is_one_page_whose_summary_links_to_each_run(
    tmp_path: Path, cli
) -> None:
    runs = tmp_path / "runs"
    for name in ("a-b", "a_b", "A B"):  # three names, one slug
        copy_run("minimal", runs, as_name=name)
    copy_run("worked-example", runs)
    broken = runs / "broken"
    broken.mkdir()
    (broken / "epochs.csv").write_text("trial_id,epoch,loss,val_loss\n")
    result = cli("report", runs, "--format", "html", "--out", tmp_path / "all.html", "--no-plots")
    assert result.exit_code == 0, result.output
    page = Page((tmp_path / "all.html").read_text())

    summary = page.tables[0]
    assert [h["text"] for h in summary["headers"]][0] == "run"
    assert [row["cells"][0] for row in summary["rows"]] == [
        "A B",
        "a-b",
        "a_b",
        "worked-example",
        "broken",
    ]
    assert summary["rows"][-1]["cells"][1] == "unreadable"
    run_links = [(href, name) for href, name in page.links if href.startswith("#run-")]
    assert [name for _, name in run_links] == ["A B", "a-b", "a_b", "worked-example"]
    targets = [href[1:] for href, _ in run_links]
    sections = [i for i in page.ids if i.startswith("run-")]
    assert targets == sections and len(set(sections)) == 4  # one to one, all different
    text = (tmp_path / "all.html").read_text()
    for href, name in run_links:  # each section starts with its run's name
        assert re.search(f'<section id="{href[1:]}">\\s*<h1>{re.escape(name)}</h1>', text)


def test_run_anchors_are_unique_and_plain() -> None:
    names = ["a-b", "a_b", "A B", "a-b-2", "über", "§", ""]
    anchors = run_anchors(names)
    assert anchors[:4] == ["run-a-b", "run-a-b-2", "run-a-b-3", "run-a-b-2-2"]
    assert len(set(anchors)) == len(names)
    assert all(re.fullmatch(r"run-[a-z0-9-]+", anchor) for anchor in anchors)
