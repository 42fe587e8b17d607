"""The JSON Schema of a tunenet config, in the syntax a user writes (for editors and CI).

Generated from the pydantic models of `config.py`. The models validate tunable keys as a tagged
union (`{kind: fixed|choice|range, ...}`) after `config._tag` normalized the YAML; the schema
describes what the YAML may say instead: a scalar, a list, `{values: [...]}` or a range
`{min, max, sampling, step}`. Point an editor at it with a first line like
`# yaml-language-server: $schema=tunenet.schema.json` (see docs/config-reference.md).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from tunenet.config.sections import MAX_CHOICES, MAX_PARAM_NAME, MAX_PARAMS, Config

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
TAGGED = ("Fixed_", "Choice_", "Range_")
# Marks a key the search can tune, for docs/config-reference.md: "range" (a value, a list or a
# range) or "choice" (a value or a list). An annotation keyword: validators ignore it.
TUNABLE_KEYWORD = "x-tunable"

# What each key means, by dotted path. The allowed values and defaults come from the models.
DESCRIPTIONS = {
    "name": "Run directory name under --runs-dir: one plain directory name, not starting with "
    "a dot, not blank, no space at either end, at most 100 characters. Default: the config "
    "file's stem.",
    "seed": "The one seed of the run: data splits, weight initialization and every trial's "
    "seed derive from it.",
    "data": "Where the examples come from and how they are split and scaled.",
    "data.source": "A built-in scikit-learn dataset (works offline), a file of your own "
    "(csv, npz, images), a Keras dataset (keras:..., downloads once) or python: your own "
    "function (data.loader).",
    "data.path": "The csv or npz file, or the images directory (one sub-folder per class).",
    "data.loader": "python: the function that returns the data, as file.py:function (e.g. "
    "data/load.py:load, relative to the config file) or package.module:function. load() returns "
    "(x, y), which tunenet splits, or {'train': (x, y), 'validation': (x, y), 'test': (x, y)} "
    "kept as given (test optional). validate parses the file, never imports it. The Python "
    "API also takes the function itself.",
    "data.test_path": "A separate file or directory used as the test split instead of holding "
    "out data.split.test of the examples.",
    "data.target": "csv: the name of the target column.",
    "data.features": "csv: the feature columns. Default: every column but the target.",
    "data.missing": "csv: what to do with missing values: stop with an error, drop the rows, "
    "or fill with the column mean (of the training split).",
    "data.missing_values": 'csv: cell texts that also mean a missing value, e.g. ["NA", "?", '
    '"-999"]. Only empty cells are missing by default: "NA", "None" or "null" are values '
    '(a category "NA" stays North America).',
    "data.task": "auto infers it from the target: a few integer or text labels are "
    "classification (binary or multiclass), anything else regression.",
    "data.image_size": "images: every image is resized to [height, width]. Smaller images "
    "train much faster.",
    "data.color_mode": "images: rgb (3 channels) or grayscale (1 channel).",
    "data.limit": "Use at most this many examples (a stratified sample): down-sampling "
    "for speed while you explore.",
    "data.split": "Fractions of all examples held out; fixed by the seed, the same for every "
    "trial.",
    "data.split.validation": "Fraction of examples for validation: the search chooses on it.",
    "data.split.test": "Fraction of examples for the test split: evaluated once, on the best "
    "model, as the unbiased estimate.",
    "data.split.stratify": "Keep the class proportions in every split (classification).",
    "data.normalize": "Input scaling fitted on the training split only and saved inside the "
    "model: standard (zero mean, unit variance), minmax (0..1) or none.",
    "data.augmentation": "images: random transformations applied in training only (more data "
    "against high variance).",
    "data.augmentation.flip": "Random flips.",
    "data.augmentation.rotation": "Random rotation, as a fraction of a full turn.",
    "data.augmentation.zoom": "Random zoom, as a fraction of the image size.",
    "data.augmentation.translation": "Random shift, as a fraction of the image size.",
    "data.augmentation.contrast": "Random contrast change factor.",
    "model": "The architecture: a dense network, conv blocks followed by a dense head, or your "
    "own Keras model (kind: custom).",
    "model.kind": "dense: hidden Dense layers; cnn: Conv2D blocks, then a dense head; custom: "
    "the model your own function builds (model.build, model.params; the dense and cnn keys are "
    "errors with it).",
    "model.layers": "Hidden dense layers (cnn: conv blocks). 0 is the logistic / linear "
    "regression baseline.",
    "model.units": "Units of each hidden dense layer, drawn per layer (hp.model.units.0, "
    "hp.model.units.1, ...).",
    "model.activation": "Activation of the hidden layers.",
    "model.initializer": "Kernel initializer of the hidden layers (he_* suits relu, "
    "glorot_* suits tanh and sigmoid).",
    "model.batch_norm": "Batch normalization after each hidden layer / conv, before the "
    "activation.",
    "model.filters": "cnn: filters of each conv block, drawn per block (or of the first block "
    "with filters_growth).",
    "model.filters_growth": "cnn: multiply the filters by this factor at each block (2 doubles "
    "them); only the first block's filters are tuned.",
    "model.kernel_size": "cnn: side of the square convolution kernel.",
    "model.strides": "cnn: stride of the convolutions.",
    "model.padding": "cnn: same keeps the image size through a convolution, valid shrinks it.",
    "model.pooling": "cnn: 2x2 pooling after each conv block.",
    "model.dense_units": "cnn: units of the dense layer after the conv blocks (0: none).",
    "model.global_pooling": "cnn: global average pooling instead of flattening before the "
    "dense head.",
    "model.build": "custom: the function that builds the model, as file.py:function (e.g. "
    "models/lstm.py:build, relative to the config file) or package.module:function. tunenet calls "
    "build(params, data) and compiles the uncompiled keras.Model it returns. validate reads "
    "and parses the file, never imports it; its content is part of the run's identity (a "
    "changed file is refused on --resume). The Python API also takes the function itself.",
    "model.params": "custom: the builder's own knobs, {name: value}, each tunable like any key "
    "(a value, a list or a range {min, max, sampling, step}); names are Python identifiers, "
    "at most 100. build() reads params['units'] (and params['regularization.l2'], ...); "
    "each tuned one is the hyperparameter model.params.units, ... (hp.model.params.units in "
    "trials.csv).",
    "regularization": "Weight penalties on the kernels and dropout after each hidden layer or "
    "conv block: remedies for high variance.",
    "regularization.l1": "L1 penalty factor on the kernels (drives weights to exactly zero).",
    "regularization.l2": "L2 penalty factor on the kernels (weight decay).",
    "regularization.dropout": "Fraction of units dropped at random in training after each "
    "hidden layer or conv block (0.2 to 0.5 is common).",
    "optimizer": "Optimizer, learning rate and its decay. Names follow the Keras arguments.",
    "optimizer.name": "momentum is SGD with momentum, nesterov SGD with Nesterov momentum.",
    "optimizer.learning_rate": "The initial learning rate: usually the most important "
    "hyperparameter; tune it on a log scale.",
    "optimizer.momentum": "momentum, nesterov and rmsprop only: the momentum factor.",
    "optimizer.schedule": "Learning-rate decay: exponential (x decay_rate every epoch), step "
    "(x decay_rate every decay_epochs), cosine (to zero over the epochs) or constant (no decay).",
    "optimizer.decay_rate": "exponential and step schedules: factor applied at each decay.",
    "optimizer.decay_epochs": "step schedule: epochs between two decays.",
    "optimizer.clipnorm": "Clip each gradient to this norm, against exploding gradients "
    "(null: no clipping).",
    "training": "How each trial trains.",
    "training.epochs": "Maximum epochs per trial (early stopping may end a trial sooner).",
    "training.batch_size": "Examples per gradient step (mini-batch size).",
    "training.class_weight": "Classification: weigh each class's examples in the training "
    "loss. balanced gives each class n / (classes x its count) in the training split, so rare "
    "classes count as much as common ones; a mapping {class label: weight} weighs the classes "
    "it names (the others 1). null: every example counts the same.",
    "training.early_stopping": "Stop a trial when the monitored metric stops improving; false "
    "turns it off, true uses the defaults. The kept weights are always the objective's best epoch.",
    "training.early_stopping.monitor": "The Keras log key watched: loss, val_loss, and for "
    "classification accuracy, val_accuracy (and auc, val_auc, pr_auc, val_pr_auc), for "
    "regression mae, val_mae, mse, val_mse.",
    "training.early_stopping.patience": "Epochs without improvement before stopping.",
    "training.early_stopping.min_delta": "The smallest change that counts as an improvement.",
    "training.early_stopping.restore_best_weights": "Accepted for Keras compatibility; tunenet "
    "always keeps the weights of the objective's best epoch (docs/run-format.md).",
    "training.monitor_layers": "Record per-layer gradient norms, weight norms, update ratios, "
    "dead and saturated units at every epoch end, on a fixed probe batch (layers.csv); false "
    "turns it off.",
    "search": "The keras-tuner strategy and its budget.",
    "search.strategy": "grid visits every combination; random samples; bayesian models the "
    "objective (Gaussian process); hyperband trains many trials briefly and the best longer; "
    "capacity grows the network from the smallest in the space.",
    "search.objective": "The validation metric to optimize, e.g. val_accuracy, or "
    "{name, direction: min|max}. Classification also takes val_auc (ROC AUC), val_pr_auc "
    "(precision-recall AUC; multiclass: one-vs-rest, micro-averaged), both maximized, and "
    "val_loss (log loss, minimized): better than accuracy when classes are imbalanced. "
    "Default: val_accuracy (classification) or val_loss (regression).",
    "search.objective.name": "A validation metric Keras logs (val_accuracy, val_loss, ...).",
    "search.objective.direction": "max or min. Default: min for losses and errors, max otherwise.",
    "search.max_trials": "At most this many trials.",
    "search.executions_per_trial": "Fits per trial (different seeds); the objective is their "
    "mean, which makes noisy comparisons fairer.",
    "search.max_epochs": "hyperband: epochs of the longest trial. Default: training.epochs.",
    "search.factor": "hyperband: reduction factor between rounds.",
    "search.max_consecutive_failed_trials": "Stop the search (exit 1) after more failed trials "
    "than this in a row.",
    "search.min_delta": "capacity: an improvement of the objective must exceed this to count.",
    "search.patience": "capacity: growth steps without improvement before units (then "
    "layers) stop growing.",
    "search.pruning": "Stop unpromising trials early (status pruned, their rows kept): none; "
    "median stops a trial at epoch k when its best objective so far is worse than the median of "
    "earlier trials' values at k; asha is asynchronous successive halving, keeping the top "
    "1/factor at each rung. random and bayesian only.",
    "search.pruning_warmup": "Epochs every trial runs before it can be pruned.",
    "search.pruning_min_trials": "Trials that must have reached epoch k before median pruning "
    "compares at k.",
    "search.max_model_params": "The largest model a trial may build, in parameters. validate "
    "(and search, before anything trains) estimates the largest model of the space from the "
    "data's shape (the most layers, the widest units or filters) and refuses a space above this. "
    "Default: 50 million (200 MB as float32).",
    "search.max_params": "Trials whose model has more trainable parameters than this are not "
    "trained (status infeasible, their params recorded) and the strategy is told not to propose "
    "them again; --max-params overrides. Default: no limit.",
    "search.time_budget": "Wall-clock budget of the search, counted from the first trial's start: "
    "seconds, or 90s, 30m, 2h, 1.5d. No trial starts after it; a trial still running at the "
    "budget + 10% stops at its next epoch end (interrupted; it runs again on --resume, which "
    "starts a fresh budget). --time-budget overrides. Default: none.",
    "search.stop_after_no_gain": "End the search after this many completed trials in a row none "
    "of which beats the best so far beyond the noise (the 95% interval of the difference of "
    "validation errors excludes zero). Default: off.",
    "search.keep": "Which model best/ holds: best (the best objective) or simplest_tied (the "
    "trial with the fewest parameters whose validation error is tied with the best's).",
    "search.enqueue": "Configurations to run first, in order: a list of mappings from "
    "hyperparameter names (trials.csv's hp columns without hp., e.g. model.units.0) to values "
    "that fit the space.",
    "search.warm_start": "A previous run directory: its best search.warm_start_top completed "
    "trials whose values fit this space run first.",
    "search.warm_start_top": "How many of the warm_start run's best trials to run first.",
    "diagnosis": "What `tunenet report` compares the errors with.",
    "diagnosis.target_error": "The best error you think reachable (human level, Bayes error); "
    "avoidable bias is train_error minus this. auto: the lowest validation error of the "
    "reference baselines fitted at the start of the search (baselines.csv; 0 when the run has "
    "none). report --target-error overrides it.",
    "diagnosis.bias_threshold": "Avoidable bias above this is diagnosed high bias.",
    "diagnosis.variance_threshold": "A train-to-validation error gap above this is diagnosed "
    "high variance.",
}


def config_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a config file, generated from `config.Config`."""
    raw = Config.model_json_schema()
    definitions = raw.pop("$defs", {})
    schema = {
        "$schema": SCHEMA_DIALECT,
        "title": "tunenet config",
        "description": (
            "A tunenet config file. Tunable keys take a scalar (fixed), a list (a choice), "
            "{values: [...]} (a choice) or a range {min, max, sampling: linear|log, step}."
        ),
        **{key: value for key, value in raw.items() if key not in ("title", "description")},
    }
    kept = {name: body for name, body in definitions.items() if not name.startswith(TAGGED)}
    schema["properties"] = _user_syntax(schema["properties"], definitions)
    schema["$defs"] = {name: _user_syntax(body, definitions) for name, body in sorted(kept.items())}
    _accept_shorthands(schema["$defs"])
    _describe(schema, schema["$defs"], "")
    return schema


def schema_text() -> str:
    """The schema as indented JSON text, newline-terminated."""
    return json.dumps(config_schema(), indent=2) + "\n"


def section_of(node: dict, definitions: dict) -> tuple[str, dict] | None:
    """(name, body) of the section a property refers to (directly or as Optional), if any."""
    options = [node, *node.get("anyOf", [])]
    for option in options:
        ref = option.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            return name, definitions[name]
    return None


def _describe(section: dict, definitions: dict, prefix: str) -> None:
    """Set each key's description from DESCRIPTIONS, walking the sections by dotted path."""
    for key, node in section.get("properties", {}).items():
        path = f"{prefix}{key}"
        text = DESCRIPTIONS.get(path, node.get("description", ""))
        kind = node.get(TUNABLE_KEYWORD)
        if kind:
            text += " Tunable: a value, a list (a choice)" + (
                " or a range {min, max, sampling, step}." if kind == "range" else "."
            )
        if text:
            node["description"] = text.strip()
        found = section_of(node, definitions)
        if found:
            _describe(found[1], definitions, f"{path}.")


def _user_syntax(node: Any, definitions: dict) -> Any:
    """Replace every tagged union of the models with the forms the YAML accepts."""
    if isinstance(node, list):
        return [_user_syntax(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    discriminator = node.get("discriminator")
    if isinstance(discriminator, dict) and discriminator.get("propertyName") == "kind":
        return _tunable(node, definitions)
    replaced = {key: _user_syntax(value, definitions) for key, value in node.items()}
    if "anyOf" in replaced:  # an optional tunable: one flat anyOf, the marker on the key
        flat = []
        for option in replaced["anyOf"]:
            if TUNABLE_KEYWORD in option:
                replaced[TUNABLE_KEYWORD] = option[TUNABLE_KEYWORD]
                flat += option["anyOf"]
            else:
                flat.append(option)
        replaced["anyOf"] = flat
    return replaced


def _tunable(node: dict, definitions: dict) -> dict:
    """The user's forms of one tunable key, from its Fixed/Choice/Range definitions."""
    mapping = node["discriminator"]["mapping"]
    fixed = definitions[mapping["fixed"].rsplit("/", 1)[-1]]
    item = copy.deepcopy(fixed["properties"]["value"])
    item.pop("title", None)
    choice_list = {"type": "array", "items": item, "minItems": 1, "maxItems": MAX_CHOICES}
    forms: list[dict] = [
        item,
        {**choice_list, "description": "a choice: the search picks one of these values"},
        {
            "type": "object",
            "description": "a choice, explicit form",
            "properties": {"values": choice_list},
            "required": ["values"],
            "additionalProperties": False,
        },
    ]
    if "range" in mapping:
        forms.append(_range(item))
    result = {key: node[key] for key in ("title", "default", "description") if key in node}
    result[TUNABLE_KEYWORD] = "range" if "range" in mapping else "choice"
    result["anyOf"] = forms
    return result


def _range(item: dict) -> dict:
    bound = {key: value for key, value in item.items() if key != "description"}
    step = {"type": bound.get("type", "number"), "exclusiveMinimum": 0}
    return {
        "type": "object",
        "description": (
            "a range: integers when min and max are integers; with sampling log, step is a factor"
        ),
        "properties": {
            "min": bound,
            "max": bound,
            "sampling": {"enum": ["linear", "log"], "default": "linear"},
            "step": {"anyOf": [step, {"type": "null"}], "default": None},
        },
        "required": ["min", "max"],
        "additionalProperties": False,
    }


def _accept_shorthands(definitions: dict) -> None:
    """Keys whose before-validators accept more than their model: say so in the schema."""
    early_stopping = definitions["TrainingConfig"]["properties"]["early_stopping"]
    early_stopping["anyOf"] = [
        {"type": "boolean"} if option.get("const") is False else option
        for option in early_stopping["anyOf"]
    ]
    objective = definitions["SearchConfig"]["properties"]["objective"]
    objective["anyOf"] = [{"type": "string"}, *objective["anyOf"]]
    params = definitions["ModelConfig"]["properties"]["params"]
    params["maxProperties"] = params.pop("maxLength", MAX_PARAMS)
    params["propertyNames"] = {
        "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
        "maxLength": MAX_PARAM_NAME,
    }
    for form in params["additionalProperties"]["anyOf"]:
        if "min" in form.get("properties", {}):  # a range's ends are numbers
            for end in ("min", "max"):
                form["properties"][end] = {"type": "number"}
