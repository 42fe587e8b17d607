"""`tunenet init`: commented starter configs, shipped as package data in `templates/*.yaml`.

The first comment line of each template is `# <name>: <one-line summary>`; `tunenet init --list`
shows those lines. A template whose `model.build` or `data.loader` names a file (`custom/x.py`)
ships it as `templates/custom/x.py.txt` (package data, not a tunenet module; the same bytes as
configs/custom/x.py), and `write_template` writes it beside the config as `custom/x.py`, so the
config runs as written. Pure Python: no TensorFlow, and the template's code is never imported.
"""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path
from typing import Optional

import yaml

from tunenet.errors import ConfigError
from tunenet.studies.refine import write_config

DEFAULT_TEMPLATE = "quickstart"
# The teaching order of `tunenet init --list`; templates not named here follow alphabetically.
ORDER = (
    "quickstart",
    "tabular-csv",
    "image-cnn",
    "regularization-study",
    "learning-rate-sweep",
    "sequence-digits",
    "functional-residual",
)
# The config keys whose value may name a file the template ships (`<file.py>:<function>`).
CODE_KEYS = (("model", "build"), ("data", "loader"))


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


def code_files(name: Optional[str] = None) -> list[str]:
    """The files, relative to the config, that the template's `model.build` and `data.loader`
    name (`custom/recurrent.py`), in that order; [] for a template of a built-in model."""
    raw = yaml.safe_load(template_text(name)) or {}
    files = []
    for section, key in CODE_KEYS:
        spec = (raw.get(section) or {}).get(key)
        where = spec.rpartition(":")[0] if isinstance(spec, str) else ""
        if where.endswith(".py") and where not in files:
            files.append(where)
    return files


def write_template(name: Optional[str], out: Path) -> list[Path]:
    """Write a template to `out`, and the code files it names beside it (`code_files`).

    Returns:
        The files written: `out`, then each code file.

    Raises:
        ConfigError: `out` or one of the code files exists (nothing is written, nothing replaced).
    """
    copies = [
        (out.parent / relative, _folder() / f"{relative}.txt") for relative in code_files(name)
    ]
    for target, _ in copies:
        if target.exists():
            raise ConfigError(
                f"{target} already exists; tunenet init never overwrites a file, and this "
                f"template writes {target.name} beside {out.name}. Choose another --out folder, "
                "or remove the file first."
            )
    write_config(template_text(name), out)
    for target, source in copies:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_config(source.read_text(encoding="utf-8"), target)
    return [out, *(target for target, _ in copies)]
