"""Which objective a run used: manifest.json's `objective`, else resolved.yaml's
`search.objective` (docs/report.md, "For the search"); the direction, when neither file gives
it, guessed from the name (min for losses and errors, max otherwise)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional

from tunenet.config.objective import Objective


@dataclass(frozen=True)
class DeclaredObjective:
    """The objective as a run's files declare it: the name, the direction as written (None when
    not written) and the file it came from."""

    name: str
    direction: Optional[str]
    source: str  # manifest.json or resolved.yaml

    @property
    def objective(self) -> Objective:
        return Objective.named(self.name, self.direction)


def declared_objective(manifest: Any, resolved: Any) -> Optional[DeclaredObjective]:
    """The objective manifest.json declares (`{name, direction}` or a name), else the one of
    resolved.yaml's `search.objective`; None when neither does (or they are damaged)."""
    search = resolved.get("search") if isinstance(resolved, dict) else None
    for raw, source in (
        (manifest.get("objective") if isinstance(manifest, dict) else None, "manifest.json"),
        (search.get("objective") if isinstance(search, dict) else None, "resolved.yaml"),
    ):
        if isinstance(raw, str) and raw:
            return DeclaredObjective(raw, None, source)
        if isinstance(raw, dict) and raw.get("name"):
            return DeclaredObjective(str(raw["name"]), raw.get("direction"), source)
    return None


def run_objective(manifest: Any, resolved: Any, columns: Iterable[str]) -> Objective:
    """The objective the run's trials were ranked by: the declared one, else the search's
    default for the task trials.csv's `columns` show (val_accuracy when it logs accuracy,
    else val_loss)."""
    declared = declared_objective(manifest, resolved)
    if declared is not None:
        return declared.objective
    return Objective.named("val_accuracy" if "val_accuracy" in columns else "val_loss")
