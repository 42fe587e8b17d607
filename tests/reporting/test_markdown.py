"""report.md: the trials table and links to the plots."""

from __future__ import annotations

from pathlib import Path


def test_markdown_holds_the_trials_table_and_links_the_plots(rendered: Path) -> None:
    text = (rendered / "report" / "report.md").read_text()
    assert text.startswith("# tunenet report: worked-example")
    assert "| rank | trial | status | val_accuracy |" in text
    assert "| 2 | 00 | completed | 0.75 | 12.0% ± 1.9 | 25.0% ± 4.5 |" in text
    assert "](plots/train_vs_validation_error.png)" in text
    assert "target error 0.13 (resolved.yaml)" in text
