"""`tunenet init`: commented starter configs, shipped as package data in `templates/*.yaml`.

The first comment line of each template is `# <name>: <one-line summary>`; `tunenet init --list`
shows those lines. Pure Python: no TensorFlow.
"""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path
from typing import Optional

from tunenet.errors import ConfigError
from tunenet.studies.refine import write_config

DEFAULT_TEMPLATE = "quickstart"
# The teaching order of `tunenet init --list`; templates not named here follow alphabetically.
ORDER = ("quickstart", "tabular-csv", "image-cnn", "regularization-study", "learning-rate-sweep")


def _folder():
    return resources.files("tunenet") / "templates"


def template_names() -> list[str]:
    """Names of the shipped templates, in teaching order."""
    found = {
        entry.name.removesuffix(".yaml")
        for entry in _folder().iterdir()
        if entry.name.endswith(".yaml")
    }
    return [name for name in ORDER if name in found] + sorted(found - set(ORDER))


def template_text(name: Optional[str] = None) -> str:
    """The YAML text of a template (default: quickstart).

    Args:
        name: a template name from `template_names()`; a `.yaml` suffix is accepted.
    """
    name = (name or DEFAULT_TEMPLATE).removesuffix(".yaml")
    names = template_names()
    if name not in names:
        hint = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
        suggestion = f" Did you mean '{hint[0]}'?" if hint else ""
        raise ConfigError(
            f"no template named {name!r}.{suggestion} Templates: {', '.join(names)} "
            "(see tunenet init --list)."
        )
    return (_folder() / f"{name}.yaml").read_text(encoding="utf-8")


def summary(name: str) -> str:
    """The one-line summary from the template's first comment line."""
    first = template_text(name).splitlines()[0]
    return first.lstrip("# ").split(":", 1)[-1].strip()


def write_template(name: Optional[str], out: Path) -> None:
    """Write a template to `out`; an existing file is never replaced (ConfigError, exit 2)."""
    write_config(template_text(name), out)
