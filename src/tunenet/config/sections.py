"""The config schema: one pydantic model per YAML section. The only place defaults live.

Every tunable key takes a scalar (fixed), a list (a choice), `{values: [...]}` (a choice) or a
range `{min, max, sampling, step}`. The raw YAML is normalized into a tagged union before
validation, so one mistake gives one error.
"""

from __future__ import annotations

import math
from collections import Counter
from decimal import Decimal
from typing import Annotated, Any, Callable, Generic, Literal, Optional, TypeVar, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    model_serializer,
    model_validator,
)

from tunenet.config import stopping, user_code

T = TypeVar("T")

BUILTIN_SOURCES = ("circles", "moons", "digits", "breast_cancer", "iris", "wine", "diabetes")
KERAS_SOURCES = ("keras:mnist", "keras:fashion_mnist", "keras:cifar10")
Source = Literal[
    "circles", "moons", "digits", "breast_cancer", "iris", "wine", "diabetes",
    "csv", "npz", "images", "keras:mnist", "keras:fashion_mnist", "keras:cifar10", "python",
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
MAX_RUN_NAME = 100  # characters; a run directory's name (docs/run-format.md)

# Upper bounds of every count and size, declared once beside each field below and shown as
# `maximum` / `maxItems` / `maxLength` in the JSON Schema (scikit-learn's parameter constraints).
# They are generous for real use; they exist so that no config can ask for what no machine
# holds, and so that `tunenet validate` answers any config at once (docs/config-reference.md).
MAX_LAYERS = 100  # hidden layers / conv blocks: plain stacks this deep no longer train
MAX_WIDTH = 65_536  # units, filters, dense_units: 2**16, wider than layers get in practice
MAX_KERNEL = 1_024  # kernel_size and strides, in pixels
MAX_IMAGE_SIDE = 8_192  # data.image_size, pixels per side
MAX_EPOCHS = 100_000  # training.epochs, search.max_epochs, decay_epochs, patience, warm-up
MAX_BATCH = 2**20  # training.batch_size
MAX_TRIALS = 100_000  # search.max_trials and the other trial counts
MAX_EXECUTIONS = 100  # search.executions_per_trial
MAX_EXAMPLES = 10**9  # data.limit
MAX_FACTOR = 100  # search.factor (hyperband and asha)
MAX_GROWTH = 16.0  # model.filters_growth
MAX_CHOICES = 10_000  # values of one choice (a list)
MAX_RANGE_VALUES = 100_000  # values a range with a step lists
MAX_FEATURES = 10_000  # entries of data.features
MAX_MISSING_VALUES = 1_000  # entries of data.missing_values
MAX_CLASS_WEIGHTS = 10_000  # entries of training.class_weight
MAX_TEXT = 1_000  # characters of a column name, a metric name or a missing-value text
MAX_PATH = 4_096  # characters of a file path (Linux's PATH_MAX)
MAX_PARAMS = 100  # entries of model.params, a custom builder's knobs
MAX_PARAM_NAME = 100  # characters of a model.params name
DEFAULT_MAX_MODEL_PARAMS = 50_000_000  # 200 MB as float32
MAX_MODEL_PARAMS = 10**11  # the ceiling of search.max_model_params: 400 GB as float32


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
    values: list[T] = Field(min_length=1, max_length=MAX_CHOICES)

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
        count = range_count(self.min, self.max, self.step, self.sampling)
        if self.step is not None and count > MAX_RANGE_VALUES:
            raise ValueError(
                f"step {self.step} makes {amount_text(count)} values between {self.min} and "
                f"{self.max}; a range with a step lists at most {MAX_RANGE_VALUES:,}: use a "
                "larger step, or no step (a continuous range)"
            )
        return self

    @model_serializer
    def _plain(self) -> Any:
        plain = {"min": self.min, "max": self.max, "sampling": self.sampling}
        if self.step is not None:
            plain["step"] = self.step
        return plain


def range_count(low: Any, high: Any, step: Any, sampling: str = "linear") -> int:
    """How many values a range lists, computed without listing them.

    Linear: min, min + step, ... up to max. Log: min, min * step, ... up to max (step is a
    factor). An int range without a step lists every integer; a float range without a step is
    continuous (counted as 0 here).
    """
    integer = isinstance(low, int) and isinstance(high, int)
    if step is None:
        return high - low + 1 if integer else 0
    if sampling == "log":
        return math.floor((math.log(high) - math.log(low)) / math.log(step) + 1e-9) + 1
    if integer and isinstance(step, int):
        return (high - low) // step + 1
    ratio = (high - low) / step
    if not math.isfinite(ratio):  # a step of 1e-320: exact in decimal, where floats overflow
        return int((Decimal(high) - Decimal(low)) / Decimal(step)) + 1
    return math.floor(ratio + 1e-9) + 1


def amount_text(count: int) -> str:
    """A count for messages: 1,234 or 1.2e+15 (never thousands of digits)."""
    if count < 10**12:
        return f"{count:,}"
    exponent = math.floor(math.log10(count))
    return f"{count / 10**exponent:.1f}e+{exponent}" if exponent < 300 else f"about 1e+{exponent}"


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


def _not_a_boolean(raw: Any) -> Any:
    """YAML's true/false where a number is expected is a mistake, not 1 or 0."""
    if isinstance(raw, bool):
        raise ValueError(f"expected a number, got the boolean {str(raw).lower()}")
    return raw


def count(low: int, high: int) -> Any:
    """An integer in [low, high]: a count or a size, never a boolean."""
    return Annotated[int, Field(ge=low, le=high), BeforeValidator(_not_a_boolean)]


def number(**bounds: float) -> Any:
    """A finite float within `bounds` (ge, gt, le, lt), never a boolean, .inf or .nan."""
    return Annotated[float, Field(allow_inf_nan=False, **bounds), BeforeValidator(_not_a_boolean)]


def text(limit: int = MAX_TEXT) -> Any:
    """A string of at most `limit` characters."""
    return Annotated[str, Field(max_length=limit)]


def _code_spec(raw: Any) -> Any:
    """A `<file.py>:<function>` or `<package.module>:<function>` spec, normalized; a callable
    (Python API) is kept as it is."""
    if raw is None or callable(raw):
        return raw
    if not isinstance(raw, str):
        raise ValueError(f"expected a text {user_code.SPEC_FORMS}")
    if len(raw) > MAX_PATH:
        raise ValueError(f"has {len(raw):,} characters; at most {MAX_PATH:,}")
    try:
        return user_code.parse_spec(raw).text
    except user_code.UserCodeError as error:
        raise ValueError(str(error).split(": ", 1)[-1]) from None


def _code_text(value: Any) -> Optional[str]:
    return user_code.callable_text(value) if callable(value) else value


CODE_SCHEMA = {
    "anyOf": [
        {"type": "string", "maxLength": MAX_PATH, "pattern": r"^.+:[A-Za-z_][A-Za-z0-9_]*$"},
        {"type": "null"},
    ],
    "default": None,
}
# model.build, data.loader: a spec (the Python API also takes the function itself).
CodeSpec = Annotated[
    Optional[Union[str, Callable[..., Any]]],
    BeforeValidator(_code_spec),
    PlainSerializer(_code_text),
    WithJsonSchema(CODE_SCHEMA),
]

PositiveFloat = number(gt=0)
NonNegativeFloat = number(ge=0)
Fraction = number(ge=0, lt=1)


def fixed(value: Any) -> Any:
    return Fixed(value=value)


# ---------------------------------------------------------------- data


class SplitConfig(Section):
    """Fractions of all examples held out; fixed by the seed, the same for every trial."""

    validation: number(gt=0, lt=1) = 0.2
    test: number(ge=0, lt=1) = 0.2
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
    twice = sorted(name for name, seen in Counter(names or []).items() if seen > 1)
    if twice:
        listed = ", ".join(repr(name) for name in twice)
        raise ValueError(f"lists {listed} twice: name each feature column once")
    return names


class DataConfig(Section):
    """Where the examples come from and how they are split and scaled."""

    source: Source
    path: Optional[text(MAX_PATH)] = None
    test_path: Optional[text(MAX_PATH)] = None
    target: Optional[text()] = None
    features: Annotated[
        Optional[list[text()]], Field(max_length=MAX_FEATURES), AfterValidator(_distinct_features)
    ] = None
    missing: Literal["error", "drop", "mean"] = "error"
    missing_values: Annotated[
        list[Annotated[text(), BeforeValidator(_missing_value)]],
        Field(max_length=MAX_MISSING_VALUES),
    ] = []
    task: Literal["auto", "binary", "multiclass", "regression"] = "auto"
    image_size: tuple[count(1, MAX_IMAGE_SIDE), count(1, MAX_IMAGE_SIDE)] = (64, 64)
    color_mode: Literal["rgb", "grayscale"] = "rgb"
    limit: Optional[count(1, MAX_EXAMPLES)] = None
    split: SplitConfig = SplitConfig()
    normalize: Literal["none", "standard", "minmax"] = "standard"
    augmentation: Optional[AugmentationConfig] = None
    loader: CodeSpec = None

    @model_serializer(mode="wrap")
    def _used_keys(self, handler: Any) -> Any:
        data = handler(self)
        if self.loader is None:  # absent as in configs written before source python existed
            data.pop("loader", None)
        return data


# ---------------------------------------------------------------- model


def _param_name(name: Any) -> str:
    if not isinstance(name, str) or not name.isidentifier() or len(name) > MAX_PARAM_NAME:
        raise ValueError(
            f"a name is a Python identifier of at most {MAX_PARAM_NAME} characters (letters, "
            "digits, _; not starting with a digit): the builder reads it as params[name]"
        )
    return name


def _value_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "text" if isinstance(value, str) else type(value).__name__


def _check_scalar(value: Any, what: str = "a value") -> None:
    """A knob's value is a boolean, a number, a text (or null when fixed), checked here once so
    that a mistake gives one message (the union would give one per type)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value}")
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise ValueError(f"{what} has {len(value):,} characters; at most {MAX_TEXT:,}")
    if value is not None and _value_kind(value) not in ("boolean", "number", "text"):
        raise ValueError(
            f"{what} must be a boolean, a number or a text, got a {_value_kind(value)} "
            f"{value!r}; a list is a choice among values"
        )


def _param_tag(raw: Any) -> Any:
    """One model.params entry in the tagged form: a choice holds one type of value (integers
    among floats become floats); a range is integers only when its ends and step are."""
    tagged = _tag(raw)
    if not isinstance(tagged, dict):
        return tagged
    kind = tagged.get("kind")
    if kind == "fixed":
        _check_scalar(tagged.get("value"))
    if kind == "choice" and isinstance(tagged.get("values"), list):
        values = tagged["values"]
        for value in values:
            if value is None:
                raise ValueError("a choice's values are booleans, numbers or texts, not null")
            _check_scalar(value, "each value of a choice")
        kinds = sorted({_value_kind(value) for value in values})
        if len(kinds) > 1:
            raise ValueError(
                f"mixes {' and '.join(kinds)} values; every value of a choice has one type "
                "(quote numbers meant as text)"
            )
        if kinds == ["number"] and any(isinstance(value, float) for value in values):
            tagged = {**tagged, "values": [float(value) for value in values]}
    if kind == "range":
        ends = {key: tagged[key] for key in ("min", "max", "step") if tagged.get(key) is not None}
        if any(_value_kind(end) != "number" for end in ends.values()):
            raise ValueError("a range's min, max and step are numbers; a list is a choice")
        if any(isinstance(end, float) for end in ends.values()):
            tagged = {**tagged, **{key: float(end) for key, end in ends.items()}}
    return tagged


def _params(raw: Any) -> Any:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError("expected a mapping {name: value, list or range}")
    if len(raw) > MAX_PARAMS:
        raise ValueError(f"has {len(raw):,} entries; at most {MAX_PARAMS}")
    return raw


ParamScalar = Union[
    StrictBool, StrictInt, number(), Annotated[StrictStr, Field(max_length=MAX_TEXT)]
]
ParamNumber = Union[StrictInt, number()]
ParamName = Annotated[str, BeforeValidator(_param_name)]
ParamValue = Annotated[
    Annotated[
        Union[Fixed[Optional[ParamScalar]], Choice[ParamScalar], Range[ParamNumber]],
        Field(discriminator="kind"),
    ],
    BeforeValidator(_param_tag),
]
# The keys of the built-in families, errors with `kind: custom` (config/load.py says so).
FAMILY_KEYS = (
    "layers", "units", "activation", "initializer", "batch_norm", "filters", "filters_growth",
    "kernel_size", "strides", "padding", "pooling", "dense_units", "global_pooling",
)  # fmt: skip
CUSTOM_KEYS = ("build", "params")


class ModelConfig(Section):
    """The architecture: a dense network, conv blocks followed by a dense head, or the user's
    own model (`kind: custom`: `build` names the function, `params` its knobs)."""

    kind: Literal["dense", "cnn", "custom"] = "dense"
    layers: tunable(count(0, MAX_LAYERS)) = fixed(2)
    units: tunable(count(1, MAX_WIDTH)) = fixed(64)
    activation: categorical(Activation) = fixed("relu")
    initializer: categorical(Initializer) = fixed("glorot_uniform")
    batch_norm: categorical(bool) = fixed(False)
    filters: tunable(count(1, MAX_WIDTH)) = fixed(32)
    filters_growth: Optional[number(ge=1, le=MAX_GROWTH)] = None
    kernel_size: tunable(count(1, MAX_KERNEL)) = fixed(3)
    strides: tunable(count(1, MAX_KERNEL)) = fixed(1)
    padding: categorical(Literal["same", "valid"]) = fixed("same")
    pooling: categorical(Literal["max", "avg", "none"]) = fixed("max")
    dense_units: tunable(count(0, MAX_WIDTH)) = fixed(64)
    global_pooling: bool = False
    build: CodeSpec = None
    params: Annotated[
        dict[ParamName, ParamValue], BeforeValidator(_params), Field(max_length=MAX_PARAMS)
    ] = {}

    @model_serializer(mode="wrap")
    def _used_keys(self, handler: Any) -> Any:
        """Only the keys of this kind: a custom model's own, or a family's (as before custom
        models existed, so that older runs' resolved configs compare equal)."""
        data = handler(self)
        dropped = FAMILY_KEYS if self.kind == "custom" else CUSTOM_KEYS
        return {key: value for key, value in data.items() if key not in dropped}


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
    decay_rate: tunable(number(gt=0, le=1)) = fixed(0.9)
    decay_epochs: tunable(count(1, MAX_EPOCHS)) = fixed(10)
    clipnorm: tunable(PositiveFloat, optional=True) = None


# ---------------------------------------------------------------- training and search


class EarlyStoppingConfig(Section):
    """Keras EarlyStopping arguments."""

    monitor: text() = "val_loss"
    patience: count(0, MAX_EPOCHS) = 5
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


def class_label(raw: Any) -> str:
    """A class label as the data names it: text as is, whole numbers without `.0` (YAML reads
    `{0: 1.0, 1: 5.0}` with number keys; the data's classes are their texts)."""
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def _class_weight(raw: Any) -> Any:
    """null, `balanced` or {label: weight}, checked here as a whole so that a mistake gives one
    error (a union would report one per branch)."""
    if raw is None or raw == "balanced":
        return raw
    if not isinstance(raw, dict) or not raw:
        raise ValueError("expected null, 'balanced' or a mapping {class label: weight}")
    if len(raw) > MAX_CLASS_WEIGHTS:
        raise ValueError(f"has {len(raw):,} entries; at most {MAX_CLASS_WEIGHTS:,}")
    weights: dict[str, float] = {}
    for key, value in raw.items():
        label = class_label(key)
        if label in weights:
            raise ValueError(f"names class {label!r} twice: give each class one weight")
        if len(label) > MAX_TEXT:
            raise ValueError(f"a class label has {len(label):,} characters; at most {MAX_TEXT:,}")
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or value <= 0:
            raise ValueError(f"class {label!r}: got {value!r}; a weight is a finite number > 0")
        weights[label] = float(value)
    return weights


CLASS_WEIGHT_SCHEMA = {
    "anyOf": [
        {"type": "null"},
        {"type": "string", "const": "balanced"},
        {
            "type": "object",
            "additionalProperties": {"type": "number", "exclusiveMinimum": 0},
            "minProperties": 1,
            "maxProperties": MAX_CLASS_WEIGHTS,
        },
    ],
    "default": None,
}


class TrainingConfig(Section):
    """How each trial trains. `early_stopping: false` turns early stopping off.
    `class_weight` (classification): `balanced` weighs each class by n / (classes × its count)
    in the training split; a mapping gives some classes a weight (the others 1)."""

    epochs: count(1, MAX_EPOCHS) = 50
    batch_size: tunable(count(1, MAX_BATCH)) = fixed(32)
    class_weight: Annotated[
        Optional[Union[Literal["balanced"], dict[str, float]]],
        BeforeValidator(_class_weight),
        WithJsonSchema(CLASS_WEIGHT_SCHEMA),
    ] = None
    early_stopping: Annotated[
        Union[EarlyStoppingConfig, Literal[False]], BeforeValidator(_early_stopping)
    ] = EarlyStoppingConfig()
    monitor_layers: bool = True


class ObjectiveConfig(Section):
    """The metric the search optimizes and its direction."""

    name: text()
    direction: Optional[Literal["min", "max"]] = None


def _objective(raw: Any) -> Any:
    return {"name": raw} if isinstance(raw, str) else raw


class SearchConfig(Section):
    """The keras-tuner strategy and its budget."""

    strategy: Strategy = "random"
    objective: Annotated[Optional[ObjectiveConfig], BeforeValidator(_objective)] = None
    max_trials: count(1, MAX_TRIALS) = 20
    executions_per_trial: count(1, MAX_EXECUTIONS) = 1
    max_epochs: Optional[count(1, MAX_EPOCHS)] = None
    factor: count(2, MAX_FACTOR) = 3
    max_consecutive_failed_trials: count(1, MAX_TRIALS) = 3
    min_delta: NonNegativeFloat = 0.001
    patience: count(1, MAX_TRIALS) = 1
    pruning: Pruning = "none"
    pruning_warmup: count(1, MAX_EPOCHS) = 3
    pruning_min_trials: count(1, MAX_TRIALS) = 5
    max_model_params: count(1, MAX_MODEL_PARAMS) = DEFAULT_MAX_MODEL_PARAMS
    max_params: Optional[count(1, MAX_MODEL_PARAMS)] = None
    time_budget: Annotated[
        Optional[float],
        BeforeValidator(stopping.time_budget),
        WithJsonSchema(stopping.TIME_BUDGET_SCHEMA),
    ] = None
    stop_after_no_gain: Optional[count(1, MAX_TRIALS)] = None
    keep: Literal["best", "simplest_tied"] = "best"
    enqueue: Annotated[
        Optional[list[dict[str, Any]]],
        BeforeValidator(stopping.enqueue),
        WithJsonSchema(stopping.ENQUEUE_SCHEMA),
    ] = None
    warm_start: Optional[text(MAX_PATH)] = None
    warm_start_top: count(1, MAX_TRIALS) = 5


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
    bias_threshold: number(ge=0, le=1) = 0.05
    variance_threshold: number(ge=0, le=1) = 0.05


RUN_NAME_RULE = (
    "a run name is one plain directory name: no '/' or '\\', not starting with a dot, "
    f"no space at either end, at most {MAX_RUN_NAME} characters"
)


def run_name_problem(name: str) -> Optional[str]:
    """What makes `name` unfit to be a run directory's name (docs/reproducibility.md), or None when
    it is fine."""
    if not name:
        return "is empty"
    if not name.strip():
        return "is blank"
    if name != name.strip():
        return "starts or ends with a space"
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
            "pattern": r"^[^./\\\s]([^/\\]*[^/\\\s])?$",
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
    seed: count(0, 2**32 - 1) = 42
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
