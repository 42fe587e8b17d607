"""What the advice knows of one trial and of its run (`dx.TrialContext`), from the run's files.

The trial's own values come from its `hp.` columns, over resolved.yaml's fixed values;
`docs/report.md` (Per trial: recommendations) says what each fact changes in the advice.
"""

from __future__ import annotations

import pandas as pd

from tunenet import diagnosis as dx
from tunenet.runs import Run
from tunenet.runs import config_value as _config_value


def trial_context(row: pd.Series, run: Run) -> dx.TrialContext:
    """The trial's own values (hp. columns) over the run's fixed config values."""
    values: dict[str, object] = {}
    for key in dx.NUMERIC_KEYS + dx.CATEGORICAL_KEYS + dx.CONTEXT_KEYS:
        found, value = _config_value(run.resolved, key)
        if found and not isinstance(value, (list, dict)):
            values[key] = value
        columns = dx.key_columns(list(row.index), key)
        tried = [row[c] for c in columns if _present(row[c])]
        if tried:
            values[key] = tried[0] if columns == [f"hp.{key}"] else tried
    source = data_source(run)
    shape = _config_value(run.manifest, "data.input_shape")[1]
    return dx.TrialContext(values, dx.image_source(source, shape), source)


def data_source(run: Run) -> str | None:
    """`data.source` from resolved.yaml, else manifest.json (None: unknown)."""
    found, source = _config_value(run.resolved, "data.source")
    if not found:
        found, source = _config_value(run.manifest, "data.source")
    return source if found and isinstance(source, str) else None


def _present(value: object) -> bool:
    if value is None:
        return False
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):
        return True
