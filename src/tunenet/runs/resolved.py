"""The resolved config as a run records it (resolved.yaml), and how two of them differ."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tunenet.config.sections import Config
from tunenet.config.user_code import code_identity

# Keys a resumed run may change: more trials or epochs extend the search without mixing configs.
EXTENDABLE = ("search.max_trials", "training.epochs")
# Limits and stop rules, which change no trial that ran: left out of the comparison, so a run
# started before a limit existed (or with another one) still resumes, with a fresh budget.
LIMITS = (
    "search.max_model_params",
    "search.max_params",
    "search.time_budget",
    "search.stop_after_no_gain",
)


def resolved_dict(config: Config) -> dict:
    """The config with every default filled in, in the user's syntax."""
    return config.model_dump(mode="json")


def fingerprint(config: Config) -> str:
    """A hash of the resolved config, without the keys a resume may extend, and of the content
    of the builder's and loader's files (docs/custom-models.md)."""
    data = resolved_dict(config)
    data.pop("name", None)
    for dotted in (*EXTENDABLE, *LIMITS):
        section, key = dotted.split(".")
        data[section].pop(key, None)
    code = {key: found["sha256"] for key, found in code_identity(config).items()}
    if code:  # absent otherwise: configs without user code keep their fingerprints
        data["user_code"] = code
    text = json.dumps(data, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def manifest_code(config: Config) -> dict:
    """What manifest.json records of the user code a config runs: {"model": {"builder":
    {spec, sha256, reads}}} and {"data": {"loader": {spec, sha256}}}, each only when used."""
    identity = code_identity(config)
    recorded: dict = {}
    if "model.build" in identity:
        recorded["model"] = {"builder": identity["model.build"]}
    if "data.loader" in identity:
        recorded["data"] = {"loader": identity["data.loader"]}
    return recorded


def recorded_code(manifest: dict) -> dict[str, dict]:
    """The user code a run's manifest recorded, by config key (`model.build`, `data.loader`)."""
    model, data = manifest.get("model"), manifest.get("data")
    found = {
        "model.build": model.get("builder") if isinstance(model, dict) else None,
        "data.loader": data.get("loader") if isinstance(data, dict) else None,
    }
    return {key: value for key, value in found.items() if isinstance(value, dict)}


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
