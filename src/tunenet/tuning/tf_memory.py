"""What TensorFlow keeps of a finished trial, given back (the TensorFlow-private API tunenet uses).

`tf.custom_gradient` in graph mode — Keras' TensorFlow backend traces one into every train step —
registers its gradient function under a fresh name ("CustomGradient-<uid>") in TensorFlow's
global gradient registry and never removes it. The function's closure holds the traced graph, so
every model a search trains stays in memory: about 4 MB per small model, whatever
`clear_session()`, `gc.collect()` or `malloc_trim` do (benchmarks/README.md). The registry is
read only while a graph is traced; once a trial has ended, nothing traces its graphs again, so
`TrialMemory.release` drops the entries registered since the search began and collects the
graphs they held.

`cheap_collections` freezes the objects that exist when the search starts (TensorFlow's modules,
the data): the collection after each trial then visits only what trials created (~20-50 ms
instead of ~0.5 s).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from tunenet.tuning.handover import unbounded

log = logging.getLogger(__name__)

PREFIX = "CustomGradient-"


def _registry() -> dict:
    """TensorFlow's gradient registry (name -> entry); empty if TensorFlow renamed it."""
    from tensorflow.python.framework import ops

    found = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    if not isinstance(found, dict):
        log.debug("TensorFlow's gradient registry not found: trial graphs are not released")
        return {}
    return found


class TrialMemory:
    """Releases, after each trial, the graphs TensorFlow would keep for the whole process."""

    def __init__(self) -> None:
        self.known = set(_registry())  # entries from before the search are left alone

    def release(self) -> int:
        """Drop the custom gradients registered since the search began, then collect the
        graphs they held. Returns the number of entries dropped."""
        if unbounded():
            return 0
        registry = _registry()
        stale = [name for name in registry if name.startswith(PREFIX) and name not in self.known]
        for name in stale:
            del registry[name]
        gc.collect()
        return len(stale)


@contextmanager
def cheap_collections() -> Iterator[None]:
    """During a search, garbage collections skip the objects that existed before it."""
    if unbounded():
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
