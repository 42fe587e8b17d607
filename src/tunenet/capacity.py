"""`search.strategy: capacity`: start with the smallest network of the space and grow it.

The capacity workflow of the course notes as a keras-tuner Oracle. The first trial is the
smallest network the space allows (fewest layers, fewest units -- filters for a CNN -- per
layer). Each next trial grows it one step: units first, then layers. Growth goes on while the
validation objective improves by more than `search.min_delta` within `search.patience` steps;
when the units stop paying, the layers grow (at the width reached); when the layers stop paying
too, the search stops. A network never shrinks, so model size is non-decreasing across trials.

Every other tuned key is sampled at random per trial, fixed keys stay fixed. For a clean capacity
curve, fix the other keys (for example with the values `tunenet refine` found).

The growth rule (`Growth`) is plain Python; `CapacityOracle` feeds it the trials' scores and keeps
its state in the oracle's state file, so `tunenet search --resume` continues the same path.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

import keras_tuner as kt

from tunenet.space import HyperParameter, layer_ladder, width_ladder

LAYERS = "model.layers"
# Per-layer width hyperparameters: model.units.0, model.units.1, ... (cnn: model.filters.i).
WIDTH = re.compile(r"^model\.(units|filters)\.\d+$")


@dataclass
class Growth:
    """Where the growth is and whether it still pays. Pure: no keras-tuner, no files.

    Args:
        layers: layer counts to visit, smallest first (`[None]` when `model.layers` is fixed).
        widths: units (filters) per layer to visit, smallest first (`[None]` when fixed).
        direction: "max" or "min", the objective's direction.
        min_delta: an improvement must exceed this to count (as in Keras' EarlyStopping).
        patience: steps without improvement before a dimension stops growing.
    """

    layers: list
    widths: list
    direction: str = "max"
    min_delta: float = 0.0
    patience: int = 1
    phase: str = "units"  # units | layers | done
    layer: int = 0
    width: int = 0
    best: Optional[float] = None
    stale: int = 0
    history: list = field(default_factory=list)  # [layers, width, score or None] per step

    @property
    def size(self) -> tuple:
        """The (layers, width) of the next trial."""
        return self.layers[self.layer], self.widths[self.width]

    def improved(self, score: Optional[float]) -> bool:
        if score is None or not math.isfinite(score):
            return False
        if self.best is None:
            return True
        gain = score - self.best if self.direction == "max" else self.best - score
        return gain > self.min_delta

    def record(self, score: Optional[float]) -> None:
        """Take the score of the trial at `size` (None: failed or diverged) and step on."""
        self.history.append([*self.size, score])
        if self.improved(score):
            self.best, self.stale = score, 0
        else:
            self.stale += 1
        self._advance()

    def _advance(self) -> None:
        if self.phase == "units":
            if self.layers[self.layer] == 0 and self.layer + 1 < len(self.layers):
                self.layer += 1  # no hidden layer has no units to grow: add the first one
                return
            if self.stale < self.patience and self.width + 1 < len(self.widths):
                self.width += 1
                return
            self.phase, self.stale = "layers", 0
        if self.phase == "layers":
            if self.stale < self.patience and self.layer + 1 < len(self.layers):
                self.layer += 1
                return
            self.phase = "done"

    def state(self) -> dict:
        return {
            key: value for key, value in asdict(self).items() if key not in ("layers", "widths")
        }

    def restore(self, state: dict) -> None:
        for key, value in state.items():
            setattr(self, key, value)


def ladders(space: list[HyperParameter]) -> tuple[list, list, set[str]]:
    """(layer counts, widths, names of the width hyperparameters) of a tunenet search space."""
    by_name = {hp.name: hp for hp in space}
    layers = layer_ladder(by_name[LAYERS]) if LAYERS in by_name else [None]
    width_hps = [hp for hp in space if WIDTH.match(hp.name)]
    widths = width_ladder(width_hps[0]) if width_hps else [None]
    return layers, widths, {hp.name for hp in width_hps}


class CapacityOracle(kt.Oracle):
    """Grows the network one step per trial while the validation objective improves.

    Args:
        objective: the keras-tuner objective (name and direction).
        space: the tunenet search space (`space.build_space`), which says what `model.layers`
            and the per-layer units (or filters) may be.
        max_trials: at most this many trials, even if growth still pays.
        min_delta: `search.min_delta`, the smallest improvement that counts. Default 0.001.
        patience: `search.patience`, steps without improvement before growth of units (then
            of layers) stops. Default 1.
        **kwargs: the other `keras_tuner.Oracle` arguments (hyperparameters, seed, ...).
    """

    def __init__(
        self,
        objective: Any,
        space: list[HyperParameter],
        max_trials: int,
        min_delta: float = 0.001,
        patience: int = 1,
        **kwargs: Any,
    ):
        super().__init__(objective=objective, max_trials=max_trials, **kwargs)
        layers, widths, self.width_names = ladders(space)
        self.growth = Growth(
            layers, widths, self.objective.direction, min_delta=min_delta, patience=patience
        )
        self.counted: list[str] = []  # trials whose score the growth has taken

    def populate_space(self, trial_id: str) -> dict:
        self._count_ended_trials()
        if self.ongoing_trials:
            return {"status": kt.engine.trial.TrialStatus.IDLE}  # the next step needs its score
        if self.growth.phase == "done":
            return {"status": kt.engine.trial.TrialStatus.STOPPED}
        return {"status": kt.engine.trial.TrialStatus.RUNNING, "values": self._values()}

    def _count_ended_trials(self) -> None:
        for trial_id in self.end_order:
            if trial_id in self.counted:
                continue
            trial = self.trials[trial_id]
            completed = trial.status == kt.engine.trial.TrialStatus.COMPLETED
            score = trial.score if completed and trial.score is not None else None
            self.growth.record(None if score is None else float(score))
            self.counted.append(trial_id)

    def _values(self) -> dict:
        """The next size for layers and widths; every other active key sampled at random."""
        layers, width = self.growth.size
        hps = kt.HyperParameters()
        for hp in self.hyperparameters.space:
            hps.merge([hp])
            if not hps.is_active(hp):
                continue
            if hp.name == LAYERS:
                hps.values[hp.name] = layers
            elif hp.name in self.width_names:
                hps.values[hp.name] = width
            else:
                hps.values[hp.name] = hp.random_sample(self._seed_state)
                self._seed_state += 1
        return hps.values

    def get_state(self) -> dict:
        state = super().get_state()
        state["capacity"] = {"growth": self.growth.state(), "counted": list(self.counted)}
        return state

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        saved = state.get("capacity")
        if saved:
            self.growth.restore(saved["growth"])
            self.counted = list(saved["counted"])
