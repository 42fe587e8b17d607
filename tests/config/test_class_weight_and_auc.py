"""training.class_weight and the classification objectives val_auc, val_pr_auc, val_loss
(docs/config-reference.md): what validate accepts, and the one clear error for each mistake."""

from __future__ import annotations

import pytest
import yaml

from tunenet.config.load import validate_dict
from tunenet.config.objective import compiled_metrics
from tunenet.runs.resolved import fingerprint, resolved_dict


def csv_table(tmp_path, target_values: list[str]):
    lines = ["a,b,label"] + [
        f"{(i * 7) % 11},{(i * 3) % 5},{target_values[i % len(target_values)]}" for i in range(40)
    ]
    path = tmp_path / "table.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def refused(result, *texts: str) -> None:
    assert result.exit_code == 2, result.output
    for text in texts:
        assert text in result.stderr, result.stderr


def test_an_unknown_class_label_names_the_key_the_label_and_the_classes(
    cli, write_config, tmp_path
):
    path = csv_table(tmp_path, ["yes", "no", "no"])
    config = write_config(
        f"data: {{source: csv, path: '{path}', target: label}}\n"
        "training: {class_weight: {yes: 5, maybe: 2}}\n"
    )
    refused(cli("validate", config), "training.class_weight", "'maybe'", "'no', 'yes'")


def test_a_built_in_source_is_checked_against_its_class_names(cli, write_config):
    config = write_config("data: {source: breast_cancer}\ntraining: {class_weight: {1: 5}}\n")
    refused(cli("validate", config), "training.class_weight", "'1'", "'malignant', 'benign'")
    config = write_config("data: {source: breast_cancer}\ntraining: {class_weight: {benign: 5}}\n")
    assert cli("validate", config).exit_code == 0


def test_number_labels_match_the_data_labels(cli, write_config, tmp_path):
    path = csv_table(tmp_path, ["0", "1", "1", "1"])
    config = write_config(
        f"data: {{source: csv, path: '{path}', target: label}}\n"
        "training: {class_weight: {0: 3.0}}\n"
    )
    assert cli("validate", config).exit_code == 0


@pytest.mark.parametrize("source", ["diabetes", "csv"])
def test_class_weight_on_a_regression_target_is_an_error(cli, write_config, tmp_path, source):
    data = "{source: diabetes}"
    if source == "csv":
        path = csv_table(tmp_path, [str(0.37 * i) for i in range(40)])  # continuous: regression
        data = f"{{source: csv, path: '{path}', target: label}}"
    config = write_config(f"data: {data}\ntraining: {{class_weight: balanced}}\n")
    refused(cli("validate", config), "training.class_weight", "regression", "classification only")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{0: -1}", "a weight is a finite number > 0"),
        ("{0: .inf}", "a weight is a finite number > 0"),
        ("{0: true}", "a weight is a finite number > 0"),
        ("sometimes", "expected null, 'balanced' or a mapping"),
        ("{0: 1, '0': 2}", "names class '0' twice"),
    ],
)
def test_a_bad_class_weight_is_one_error(cli, write_config, value, expected):
    config = write_config(f"data: {{source: iris}}\ntraining: {{class_weight: {value}}}\n")
    result = cli("validate", config)
    refused(result, "training.class_weight", expected)
    assert "1 problem" in result.stderr


def test_class_weight_is_in_resolved_yaml_and_the_fingerprint():
    plain = validate_dict({"data": {"source": "iris"}})
    weighted = validate_dict({"data": {"source": "iris"}, "training": {"class_weight": {0: 2}}})
    balanced = validate_dict({"data": {"source": "iris"}, "training": {"class_weight": "balanced"}})
    assert resolved_dict(plain)["training"]["class_weight"] is None
    dumped = yaml.safe_load(yaml.safe_dump(resolved_dict(weighted)))
    assert dumped["training"]["class_weight"] == {"0": 2.0}
    assert len({fingerprint(plain), fingerprint(weighted), fingerprint(balanced)}) == 3


@pytest.mark.parametrize("objective", ["val_auc", "val_pr_auc", "val_loss"])
@pytest.mark.parametrize("source", ["breast_cancer", "iris"])
def test_classification_takes_the_auc_and_loss_objectives(cli, write_config, objective, source):
    config = write_config(f"data: {{source: {source}}}\nsearch: {{objective: {objective}}}\n")
    result = cli("validate", config)
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("objective", ["val_auc", "val_pr_auc"])
def test_regression_refuses_the_auc_objectives(cli, write_config, objective):
    config = write_config(f"data: {{source: diabetes}}\nsearch: {{objective: {objective}}}\n")
    refused(
        cli("validate", config),
        "search.objective",
        f"got '{objective}', which a regression model does not log",
        "val_loss, val_mae, val_mse",
    )


def test_a_csv_regression_target_refuses_val_auc(cli, write_config, tmp_path):
    path = csv_table(tmp_path, [str(0.37 * i) for i in range(40)])
    config = write_config(
        f"data: {{source: csv, path: '{path}', target: label}}\nsearch: {{objective: val_auc}}\n"
    )
    refused(cli("validate", config), "search.objective", "which a regression model does not log")


def test_auc_metrics_are_compiled_only_when_watched():
    def metrics(**sections):
        config = validate_dict({"data": {"source": "iris"}, **sections})
        return compiled_metrics(config, "multiclass")

    assert metrics() == ()
    assert metrics(search={"objective": "val_auc"}) == ("auc",)
    assert metrics(training={"early_stopping": {"monitor": "val_pr_auc"}}) == ("pr_auc",)
    both = metrics(
        search={"objective": "val_pr_auc"}, training={"early_stopping": {"monitor": "auc"}}
    )
    assert both == ("auc", "pr_auc")
    config = validate_dict({"data": {"source": "iris"}, "search": {"objective": "val_auc"}})
    assert compiled_metrics(config, "regression") == ()


def test_a_run_recorded_before_class_weight_existed_has_the_same_config():
    from tunenet.runs.resolved import config_differences

    config = validate_dict({"data": {"source": "iris"}})
    recorded = resolved_dict(config)
    del recorded["training"]["class_weight"]  # resolved.yaml of an older tunenet
    assert config_differences(recorded, resolved_dict(config)) == []
    weighted = validate_dict({"data": {"source": "iris"}, "training": {"class_weight": "balanced"}})
    assert config_differences(recorded, resolved_dict(weighted)) == [
        ("training.class_weight", None, "balanced")
    ]
