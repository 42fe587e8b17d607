"""The resolved config as a run records it (resolved.yaml), and how two of them differ."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tunenet.config.sections import Config

# Keys a resumed run may change: more trials or epochs extend the search without mixing configs.
EXTENDABLE = ("search.max_trials", "training.epochs")
# Limits checked when the config loads, which change no trial: left out of the comparison, so a
# run started before a limit existed (or with another one) still resumes.
LIMITS = ("search.max_model_params",)


def resolved_dict(config: Config) -> dict:
    """The config with every default filled in, in the user's syntax."""
    return config.model_dump(mode="json")


def fingerprint(config: Config) -> str:
    """A hash of the resolved config, without the keys a resume may extend."""
    data = resolved_dict(config)
    data.pop("name", None)
    for dotted in (*EXTENDABLE, *LIMITS):
        section, key = dotted.split(".")
        data[section].pop(key, None)
    text = json.dumps(data, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        flat: dict[str, Any] = {}
        for key, value in data.items():
            flat.update(_flatten(value, f"{prefix}{key}."))
        return flat
    return {prefix[:-1]: data}


def config_differences(old: dict, new: dict) -> list[tuple[str, Any, Any]]:
    """Keys whose value differs between two resolved configs: (key, old, new)."""
    before, after = _flatten(old), _flatten(new)
    keys = [key for key in after if key in before] + [key for key in before if key not in after]
    keys += [key for key in after if key not in before]
    return [
        (key, before.get(key), after.get(key)) for key in dict.fromkeys(keys)
        if before.get(key) != after.get(key) and key not in LIMITS
    ]  # fmt: skip
