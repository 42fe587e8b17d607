"""The oracles, which choose each trial's values: keras-tuner's, and tunenet's grid and capacity.

`search.strategy: capacity` starts with the smallest network of the space and grows it: the
capacity workflow of the course notes. The first trial is the smallest network the space allows
(fewest layers, fewest units -- filters for a CNN -- per layer). Each next trial grows it one
step: units first, then layers. Growth goes on while the validation objective improves by more
than `search.min_delta` within `search.patience` steps; when the units stop paying, the layers
grow (at the width reached); when the layers stop paying too, the search stops. A network never
shrinks, so model size is non-decreasing across trials.

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

from tunenet.config.objective import Objective
from tunenet.config.sections import Config
from tunenet.config.space import HyperParameter, grid_points, layer_ladder, width_ladder
from tunenet.tuning import kt_compat

LAYERS = "model.layers"
# Per-layer width hyperparameters: model.units.0, model.units.1, ... (cnn: model.filters.i).
WIDTH = re.compile(r"^model\.(units|filters)\.\d+$")


def make_oracle(config: Config, space: list[HyperParameter], objective: Objective) -> kt.Oracle:
    """The oracle of `search.strategy`, over the whole tunenet search space."""
    search = config.search
    common = dict(
        objective=kt.Objective(objective.name, objective.direction),
        hyperparameters=kt_hyperparameters(space),
        tune_new_entries=False,
        allow_new_entries=False,
        seed=config.seed,
        max_consecutive_failed_trials=10**9,  # tunenet counts failures itself
    )
    if search.strategy == "hyperband":
        oracle = CappedHyperbandOracle(
            max_epochs=search.max_epochs or config.training.epochs, factor=search.factor, **common
        )
        oracle.max_trials = search.max_trials
        return oracle
    if search.strategy == "grid":
        return GridOracle(grid_points(space) or [], max_trials=search.max_trials, **common)
    if search.strategy == "capacity":
        return CapacityOracle(
            space=space,
            max_trials=search.max_trials,
            min_delta=search.min_delta,
            patience=search.patience,
            **common,
        )
    return SAMPLERS[search.strategy](max_trials=search.max_trials, **common)


def kt_hyperparameters(hps: list[HyperParameter]) -> kt.HyperParameters:
    """Register the whole space up front, conditions included, so every oracle sees it."""
    registry = kt.HyperParameters()
    for hp in hps:
        if hp.parent:
            with registry.conditional_scope(hp.parent, list(hp.parent_values)):
                _register(registry, hp)
        else:
            _register(registry, hp)
    return registry


def _register(registry: kt.HyperParameters, hp: HyperParameter) -> None:
    if hp.kind == "choice":
        registry.Choice(hp.name, list(hp.values), ordered=False)
    elif hp.kind == "int":
        registry.Int(hp.name, hp.min, hp.max, step=hp.step, sampling=hp.sampling)
    else:
        registry.Float(hp.name, hp.min, hp.max, step=hp.step, sampling=hp.sampling)


# ---------------------------------------------------------------- hyperband and grid


class CappedHyperbandOracle(kt.oracles.HyperbandOracle):
    """keras-tuner's Hyperband ignores max_trials; tunenet honours it."""

    def populate_space(self, trial_id: str) -> dict:
        if self.max_trials and len(self.trials) >= self.max_trials:
            return kt_compat.stop_proposing()
        return super().populate_space(trial_id)


class GridOracle(kt.Oracle):
    """Hands out the grid's points in order.

    keras-tuner's grid oracle derives each point from a finished trial, so parallel workers wait
    for each other, and it does not save its place for a resume; this one does both.
    """

    def __init__(self, points: list[dict], **kwargs: Any):
        super().__init__(**kwargs)
        self.points, self.next_point = points, 0

    def populate_space(self, trial_id: str) -> dict:
        if self.next_point >= len(self.points):
            return kt_compat.stop_proposing()
        values = dict(self.points[self.next_point])
        self.next_point += 1
        return kt_compat.propose(values)

    def get_state(self) -> dict:
        return {**super().get_state(), "next_point": self.next_point}

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        self.next_point = state.get("next_point", 0)


# ---------------------------------------------------------------- capacity


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
        return Objective.named("score", self.direction).gain(score, self.best) > self.min_delta

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
            return kt_compat.wait_for_running()  # the next step needs their score
        if self.growth.phase == "done":
            return kt_compat.stop_proposing()
        return kt_compat.propose(self._values())

    def _count_ended_trials(self) -> None:
        for trial_id in self.end_order:
            if trial_id in self.counted:
                continue
            self.growth.record(kt_compat.completed_score(self.trials[trial_id]))
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
                hps.values[hp.name] = kt_compat.sample(self, hp)
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


# ---------------------------------------------------------------- stop rules


def guard(oracle: kt.Oracle, rules: Any) -> None:
    """Start the budget's clock (`stop_rules.StopRules.begin`) when a trial is first asked for,
    and ask `rules.refuse(proposed)` before the oracle proposes each trial, whatever its
    strategy: a True answer stops the search (the workers too, as they fetch their next trial
    from this oracle). Set on the instance: keras-tuner saves no attribute of it."""
    propose, create = oracle.populate_space, oracle.create_trial

    def populate_space(trial_id: str) -> dict:
        if rules.refuse(len(oracle.trials)):
            return kt_compat.stop_proposing()
        return propose(trial_id)

    def create_trial(tuner_id: str) -> Any:
        rules.begin()
        return create(tuner_id)

    oracle.populate_space, oracle.create_trial = populate_space, create_trial


SAMPLERS = {
    "random": kt.oracles.RandomSearchOracle,
    "bayesian": kt.oracles.BayesianOptimizationOracle,
}
