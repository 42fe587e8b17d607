"""tunenet: tune Keras neural networks from one YAML file and diagnose every learning curve.

The Python API (docs/api.md):

    import tunenet
    result = tunenet.search("configs/quickstart.yaml")   # or a dict, or a Config
    result.trials                                        # pandas.DataFrame of trials.csv
    tunenet.report(result.run_dir).to_dict()             # what report.json holds
    tunenet.validate(config)                             # raises tunenet.ConfigError

`import tunenet` is light: the API loads on first use, and TensorFlow only when a search trains.
"""

from __future__ import annotations

import importlib
import os
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from tunenet.errors import (
    ConfigError,
    DataError,
    OptionError,
    RunDirError,
    SearchError,
    TunenetError,
)

# Set before any module imports TensorFlow: quiet C++ logs, and no oneDNN, which reorders float
# sums (runs differ in the last digits) and logs before its logging can be silenced.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # distributed mode: no fork/epoll chatter

try:  # pyproject.toml is the one place the version is written
    __version__ = version("tunenet")
except PackageNotFoundError:  # a source tree used without installing it
    __version__ = "0+unknown"

if TYPE_CHECKING:
    from tunenet.api import Report, SearchResult, Validation, report, search, validate
    from tunenet.models.custom import DataSpec

__all__ = [
    "search",
    "report",
    "validate",
    "SearchResult",
    "Report",
    "Validation",
    "DataSpec",
    "ConfigError",
    "DataError",
    "OptionError",
    "RunDirError",
    "SearchError",
    "TunenetError",
    "__version__",
]
# Loaded from tunenet.api on first access (PEP 562), so that `import tunenet` stays fast.
_LAZY = (
    "search",
    "report",
    "validate",
    "lr_find",
    "learning_curve",
    "SearchResult",
    "Report",
    "Validation",
)


# What a model.build function is given as `data` (docs/custom-models.md); no TensorFlow.
_MODELS = ("DataSpec",)


def __getattr__(name: str) -> Any:
    if name in _MODELS:
        value = getattr(importlib.import_module("tunenet.models.custom"), name)
        globals()[name] = value
        return value
    if name in _LAZY:
        value = getattr(importlib.import_module("tunenet.api"), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'tunenet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_MODELS))
