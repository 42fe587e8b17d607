"""report.html: one self-contained file with sortable tables."""

from __future__ import annotations

from pathlib import Path


def test_html_is_one_self_contained_file_with_a_sortable_table(rendered: Path) -> None:
    text = (rendered / "report" / "report.html").read_text()
    assert text.startswith("<!DOCTYPE html>")
    plots = list((rendered / "report" / "plots").glob("*.png"))
    assert text.count('src="data:image/png;base64,') == len(plots) == 8  # each plot once
    assert "http" not in text  # no external script, style or image
    assert '<table class="sortable">' in text and "<script>" in text
    assert 'data-sort="0.87"' in text
    assert "high bias and high variance" in text
