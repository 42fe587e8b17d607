"""The config schema: one pydantic model per YAML section. The only place defaults live.

Every tunable key takes a scalar (fixed), a list (a choice), `{values: [...]}` (a choice) or a
range `{min, max, sampling, step}`. The raw YAML is normalized into a tagged union before
validation, so one mistake gives one error.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, Optional, TypeVar, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_serializer,
    model_validator,
)

T = TypeVar("T")

BUILTIN_SOURCES = ("circles", "moons", "digits", "breast_cancer", "iris", "wine", "diabetes")
KERAS_SOURCES = ("keras:mnist", "keras:fashion_mnist", "keras:cifar10")
Source = Literal[
    "circles", "moons", "digits", "breast_cancer", "iris", "wine", "diabetes",
    "csv", "npz", "images", "keras:mnist", "keras:fashion_mnist", "keras:cifar10",
]  # fmt: skip
Activation = Literal["relu", "tanh", "sigmoid", "elu", "selu", "gelu", "swish", "leaky_relu"]
Initializer = Literal[
    "glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal",
    "lecun_uniform", "random_normal", "random_uniform", "orthogonal", "zeros",
]  # fmt: skip
OptimizerName = Literal["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw", "adagrad"]
MOMENTUM_OPTIMIZERS = ("momentum", "nesterov", "rmsprop")
Schedule = Literal["constant", "exponential", "cosine", "step"]
DECAY_SCHEDULES = ("exponential", "step")
Strategy = Literal["grid", "random", "bayesian", "hyperband", "capacity"]
Pruning = Literal["none", "median", "asha"]
TAGS = ("fixed", "choice", "range")
MAX_RUN_NAME = 100  # characters; a run directory's name (SPEC §7)


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Fixed(Section, Generic[T]):
    """A value that is not tuned."""

    kind: Literal["fixed"] = "fixed"
    value: T

    @model_serializer
    def _plain(self) -> Any:
        return self.value

    @property
    def values(self) -> list[T]:
        return [self.value]


class Choice(Section, Generic[T]):
    """A choice among listed values; every element has the key's type."""

    kind: Literal["choice"] = "choice"
    values: list[T] = Field(min_length=1)

    @model_serializer
    def _plain(self) -> Any:
        return list(self.values)


class Range(Section, Generic[T]):
    """A numeric range. With `sampling: log`, `step` is a factor (as in keras-tuner)."""

    kind: Literal["range"] = "range"
    min: T
    max: T
    sampling: Literal["linear", "log"] = "linear"
    step: Optional[T] = None

    @model_validator(mode="after")
    def _check_bounds(self) -> "Range":
        if self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be smaller than max ({self.max})")
        if self.sampling == "log" and self.min <= 0:
            raise ValueError(f"log sampling needs min > 0, got min={self.min}")
        if self.step is not None and self.step <= 0:
            raise ValueError(f"step must be positive, got {self.step}")
        if self.step is not None and self.sampling == "log" and self.step <= 1:
            raise ValueError(f"with log sampling step is a factor and must be > 1, got {self.step}")
        return self

    @model_serializer
    def _plain(self) -> Any:
        plain = {"min": self.min, "max": self.max, "sampling": self.sampling}
        if self.step is not None:
            plain["step"] = self.step
        return plain


def _tag(raw: Any) -> Any:
    """Normalize the user's syntax into the tagged form the union validates."""
    if isinstance(raw, (Fixed, Choice, Range)):
        return raw
    if isinstance(raw, list):
        return {"kind": "choice", "values": raw}
    if isinstance(raw, dict):
        if "kind" in raw:
            return raw
        if "values" in raw:
            return {"kind": "choice", **raw}
        return {"kind": "range", **raw}
    return {"kind": "fixed", "value": raw}


def tunable(item: Any, optional: bool = False) -> Any:
    """A numeric key that may be fixed, a choice or a range (or null when optional)."""
    union = Annotated[Union[Fixed[item], Choice[item], Range[item]], Field(discriminator="kind")]
    if optional:
        return Annotated[
            Optional[union], BeforeValidator(lambda raw: None if raw is None else _tag(raw))
        ]
    return Annotated[union, BeforeValidator(_tag)]


def categorical(item: Any) -> Any:
    """A key that may be fixed or a choice (no range)."""

    def tag(raw: Any) -> Any:
        tagged = _tag(raw)
        if isinstance(tagged, dict) and tagged.get("kind") == "range":
            raise ValueError(f"expected a value or a list of values, got the mapping {raw!r}")
        return tagged

    union = Union[Fixed[item], Choice[item]]
    return Annotated[union, BeforeValidator(tag), Field(discriminator="kind")]


PositiveInt = Annotated[int, Field(ge=1)]
NonNegativeInt = Annotated[int, Field(ge=0)]
PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, lt=1)]


def fixed(value: Any) -> Any:
    return Fixed(value=value)


# ---------------------------------------------------------------- data


class SplitConfig(Section):
    """Fractions of all examples held out; fixed by the seed, the same for every trial."""

    validation: Annotated[float, Field(gt=0, lt=1)] = 0.2
    test: Annotated[float, Field(ge=0, lt=1)] = 0.2
    stratify: bool = True

    @model_validator(mode="after")
    def _check_total(self) -> "SplitConfig":
        if self.validation + self.test >= 1:
            raise ValueError(
                f"validation + test must leave examples for training, "
                f"got {self.validation} + {self.test} >= 1"
            )
        return self


class AugmentationConfig(Section):
    """Image augmentation layers, active in training only."""

    flip: categorical(Literal["none", "horizontal", "vertical", "horizontal_and_vertical"]) = fixed(
        "none"
    )
    rotation: tunable(Fraction) = fixed(0.0)
    zoom: tunable(Fraction) = fixed(0.0)
    translation: tunable(Fraction) = fixed(0.0)
    contrast: tunable(Fraction) = fixed(0.0)


def _missing_value(raw: Any) -> Any:
    """A cell text that means "missing": numbers as they are written, never null or booleans."""
    if isinstance(raw, bool) or raw is None:  # YAML turned an unquoted null / true into a value
        written = {None: "null", True: "true", False: "false"}[raw]
        raise ValueError(f'write it in quotes, "{written}", to mean the text {written}')
    return str(raw) if isinstance(raw, (int, float)) else raw


def _distinct_features(names: Optional[list[str]]) -> Optional[list[str]]:
    twice = sorted({name for name in names or [] if names.count(name) > 1})
    if twice:
        listed = ", ".join(repr(name) for name in twice)
        raise ValueError(f"lists {listed} twice: name each feature column once")
    return names


class DataConfig(Section):
    """Where the examples come from and how they are split and scaled."""

    source: Source
    path: Optional[str] = None
    test_path: Optional[str] = None
    target: Optional[str] = None
    features: Annotated[Optional[list[str]], AfterValidator(_distinct_features)] = None
    missing: Literal["error", "drop", "mean"] = "error"
    missing_values: list[Annotated[str, BeforeValidator(_missing_value)]] = []
    task: Literal["auto", "binary", "multiclass", "regression"] = "auto"
    image_size: tuple[PositiveInt, PositiveInt] = (64, 64)
    color_mode: Literal["rgb", "grayscale"] = "rgb"
    limit: Optional[PositiveInt] = None
    split: SplitConfig = SplitConfig()
    normalize: Literal["none", "standard", "minmax"] = "standard"
    augmentation: Optional[AugmentationConfig] = None


# ---------------------------------------------------------------- model


class ModelConfig(Section):
    """The architecture: a dense network, or conv blocks followed by a dense head."""

    kind: Literal["dense", "cnn"] = "dense"
    layers: tunable(NonNegativeInt) = fixed(2)
    units: tunable(PositiveInt) = fixed(64)
    activation: categorical(Activation) = fixed("relu")
    initializer: categorical(Initializer) = fixed("glorot_uniform")
    batch_norm: categorical(bool) = fixed(False)
    filters: tunable(PositiveInt) = fixed(32)
    filters_growth: Optional[Annotated[float, Field(ge=1)]] = None
    kernel_size: tunable(PositiveInt) = fixed(3)
    strides: tunable(PositiveInt) = fixed(1)
    padding: categorical(Literal["same", "valid"]) = fixed("same")
    pooling: categorical(Literal["max", "avg", "none"]) = fixed("max")
    dense_units: tunable(NonNegativeInt) = fixed(64)
    global_pooling: bool = False


class RegularizationConfig(Section):
    """Weight penalties on kernels and dropout after each hidden layer or conv block."""

    l1: tunable(NonNegativeFloat) = fixed(0.0)
    l2: tunable(NonNegativeFloat) = fixed(0.0)
    dropout: tunable(Fraction) = fixed(0.0)


class OptimizerConfig(Section):
    """Optimizer, learning rate and its decay. Names follow the Keras arguments."""

    name: categorical(OptimizerName) = fixed("adam")
    learning_rate: tunable(PositiveFloat) = fixed(1.0e-3)
    momentum: tunable(Fraction) = fixed(0.9)
    schedule: categorical(Schedule) = fixed("constant")
    decay_rate: tunable(Annotated[float, Field(gt=0, le=1)]) = fixed(0.9)
    decay_epochs: tunable(PositiveInt) = fixed(10)
    clipnorm: tunable(PositiveFloat, optional=True) = None


# ---------------------------------------------------------------- training and search


class EarlyStoppingConfig(Section):
    """Keras EarlyStopping arguments."""

    monitor: str = "val_loss"
    patience: NonNegativeInt = 5
    min_delta: NonNegativeFloat = 0.0
    restore_best_weights: bool = True


def _early_stopping(raw: Any) -> Any:
    if raw is True:
        return {}
    if raw is False or isinstance(raw, (dict, EarlyStoppingConfig)):
        return raw
    raise ValueError(
        "expected false, true or a mapping {monitor, patience, min_delta, restore_best_weights}"
    )


class TrainingConfig(Section):
    """How each trial trains. `early_stopping: false` turns early stopping off."""

    epochs: PositiveInt = 50
    batch_size: tunable(PositiveInt) = fixed(32)
    early_stopping: Annotated[
        Union[EarlyStoppingConfig, Literal[False]], BeforeValidator(_early_stopping)
    ] = EarlyStoppingConfig()
    monitor_layers: bool = True


class ObjectiveConfig(Section):
    """The metric the search optimizes and its direction."""

    name: str
    direction: Optional[Literal["min", "max"]] = None


def _objective(raw: Any) -> Any:
    return {"name": raw} if isinstance(raw, str) else raw


class SearchConfig(Section):
    """The keras-tuner strategy and its budget."""

    strategy: Strategy = "random"
    objective: Annotated[Optional[ObjectiveConfig], BeforeValidator(_objective)] = None
    max_trials: PositiveInt = 20
    executions_per_trial: PositiveInt = 1
    max_epochs: Optional[PositiveInt] = None
    factor: Annotated[int, Field(ge=2)] = 3
    max_consecutive_failed_trials: PositiveInt = 3
    min_delta: NonNegativeFloat = 0.001
    patience: PositiveInt = 1
    pruning: Pruning = "none"
    pruning_warmup: PositiveInt = 3
    pruning_min_trials: PositiveInt = 5


def _target_error(raw: Any) -> Any:
    """`auto` or a fraction in [0, 1]; one check, so that a mistake gives one error."""
    if raw == "auto":
        return raw
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not 0 <= raw <= 1:
        raise ValueError(
            f"expected 'auto' or a number between 0 and 1 (0.13 means 13 %), got {raw!r}"
        )
    return float(raw)


TARGET_ERROR_SCHEMA = {
    "anyOf": [{"type": "string", "const": "auto"}, {"type": "number", "minimum": 0, "maximum": 1}],
    "default": "auto",
}


class DiagnosisConfig(Section):
    """What `tunenet report` compares the errors with."""

    target_error: Annotated[
        Union[Literal["auto"], float],
        BeforeValidator(_target_error),
        WithJsonSchema(TARGET_ERROR_SCHEMA),
    ] = "auto"
    bias_threshold: Annotated[float, Field(ge=0, le=1)] = 0.05
    variance_threshold: Annotated[float, Field(ge=0, le=1)] = 0.05


RUN_NAME_RULE = (
    "a run name is one plain directory name: no '/' or '\\', not starting with a dot, "
    f"at most {MAX_RUN_NAME} characters"
)


def run_name_problem(name: str) -> Optional[str]:
    """What makes `name` unfit to be a run directory's name (SPEC §7), or None when it is fine."""
    if not name:
        return "is empty"
    if "/" in name or "\\" in name:
        return "contains a path separator"
    if name.startswith("."):
        return "starts with a dot"
    if len(name) > MAX_RUN_NAME:
        return f"has {len(name)} characters"
    if not name.isprintable():
        return "contains a control character"
    return None


_RUN_NAME_SCHEMA = {
    "anyOf": [
        {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_RUN_NAME,
            "pattern": r"^[^./\\][^/\\]*$",
        },
        {"type": "null"},
    ]
}


def _run_name(name: Optional[str]) -> Optional[str]:
    problem = None if name is None else run_name_problem(name)
    if problem:
        raise ValueError(f"{problem}; {RUN_NAME_RULE}")
    return name


class Config(Section):
    """A whole tunenet config file."""

    name: Annotated[
        Optional[str],
        AfterValidator(_run_name),
        WithJsonSchema(_RUN_NAME_SCHEMA),  # for editors: the same rule as a pattern
    ] = None
    seed: Annotated[int, Field(ge=0, lt=2**32)] = 42
    data: DataConfig
    model: ModelConfig = ModelConfig()
    regularization: RegularizationConfig = RegularizationConfig()
    optimizer: OptimizerConfig = OptimizerConfig()
    training: TrainingConfig = TrainingConfig()
    search: SearchConfig = SearchConfig()
    diagnosis: DiagnosisConfig = DiagnosisConfig()


def objective_direction(name: str) -> str:
    """Infer min/max from a metric name, as keras-tuner does."""
    lowered = name.lower()
    minimized = ("loss", "error", "mse", "mae", "mape", "msle", "crossentropy", "hinge")
    return "min" if any(word in lowered for word in minimized) else "max"
