"""`tunenet report`: one report model built once per run, then one small renderer per format.

The flow: `runs.load_run` → `model.build_report` (settings, objective, `diagnosis`) → a
`RunReport` → the renderers in `output.RENDERERS` (`terminal`, `markdown`, `tables` for csv and
json, `html`) and `plots` → `output.publish` (files under `<run>/report/`, then stdout or
`--out`). `sections` holds the lines and table cells the renderers share; `search` the tables of
`validate` and `search`. Never imports TensorFlow or Keras; matplotlib only when plots are drawn.

This module is the package's public face, loaded on first use: the search space table needs
neither pandas nor the report model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # exported lazily: __getattr__
    from tunenet.reporting.model import (  # noqa: F401
        RunReport,
        build_report,
        load_reports,
        resolve_settings,
    )
    from tunenet.reporting.output import (  # noqa: F401
        RENDERERS,
        publish,
        render,
        run,
        write_report_files,
    )
    from tunenet.reporting.search import search_summary, space_table  # noqa: F401
    from tunenet.reporting.tables import report_dict  # noqa: F401
    from tunenet.reporting.terminal import best_trial_text  # noqa: F401

_PUBLIC = {
    "RunReport": "model",
    "build_report": "model",
    "load_reports": "model",
    "resolve_settings": "model",
    "RENDERERS": "output",
    "publish": "output",
    "render": "output",
    "run": "output",
    "write_report_files": "output",
    "search_summary": "search",
    "space_table": "search",
    "report_dict": "tables",
    "best_trial_text": "terminal",
}

__all__ = list(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(f"tunenet.reporting.{_PUBLIC[name]}"), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
