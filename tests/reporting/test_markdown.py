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


def test_markdown_trials_table_has_each_trials_hyperparameters() -> None:
    from tunenet.reporting.markdown import render_markdown

    from .helpers import FIXTURES, build

    text = render_markdown([build(FIXTURES / "worked-example")])
    lines = text.split("# Trials", 1)[1].strip().splitlines()
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = {
        cells[1]: dict(zip(header, cells, strict=True))
        for cells in ([c.strip() for c in line.strip("|").split("|")] for line in lines[2:])
        if len(cells) == len(header)
    }
    assert {"model.units.0", "optimizer.learning_rate", "optimizer.name"} <= set(header)
    assert [rows[t]["model.units.0"] for t in ("00", "01", "02", "03")] == ["128", "16", "32", "64"]
    assert rows["01"]["model.units.1"] == "" and rows["03"]["model.units.1"] == "64"
    assert (
        rows["01"]["optimizer.learning_rate"] == "0.0001" and rows["01"]["optimizer.name"] == "sgd"
    )
    assert rows["03"]["regularization.dropout"] == "0.2" and rows["03"]["model.layers"] == "2"
