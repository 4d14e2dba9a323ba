"""Checking and editing configuration text as the configuration editor does."""

from core.config.editing import (
    check_augments_text,
    check_optuna_text,
    check_params_text,
    set_top_level_value,
    yaml_value_text,
)


def test_errors_are_tied_to_their_parameter(workspace):
    check = check_params_text(workspace, "lr: -1\nbatch_size: 0\nbatch_sise: 3\n")
    assert not check.ok
    assert check.field_errors["lr"].startswith("Input should be greater than 0")
    assert "got -1" in check.field_errors["lr"]
    assert "greater than or equal to 1" in check.field_errors["batch_size"]
    assert check.errors == [
        "params.yaml: unknown key 'batch_sise' (did you mean 'batch_size'?); "
        "`cockpit config show` lists the known keys"
    ]
    assert check.shown_values()["lr"] == -1 and check.shown_values()["dropout"] == 0.0


def test_valid_text_resolves_like_the_file(workspace):
    check = check_params_text(workspace, workspace.params_file.read_text())
    assert check.ok and not check.field_errors and not check.errors
    assert check.resolved.values["lr"] == 0.001
    assert check.specs["dropout"].owner == "model simple_cnn"


def test_unknown_model_is_an_error_of_the_model_field(workspace):
    check = check_params_text(workspace, "model: resnett\n")
    assert "'resnett' is not registered" in check.field_errors["model"]
    assert "did you mean 'resnet'" in check.field_errors["model"]
    assert "dropout" not in check.specs and "lr" in check.specs


def test_malformed_yaml_names_the_line(workspace):
    check = check_params_text(workspace, "lr: 0.1\nbatch_size: [1, 2\n")
    assert check.mapping is None
    assert check.errors[0].startswith("params.yaml: line 3, column 1: invalid YAML")


def test_augments_and_optuna_text(workspace):
    assert check_augments_text("train:\n  - p: 0.5\n") == [
        "augments.yaml: train[0].type: Field required"
    ]
    resolved = check_params_text(workspace, "").resolved
    config, problems = check_optuna_text(workspace.optuna_params_file.read_text(), resolved)
    assert problems == [] and config.study.n_trials == 20
    config, problems = check_optuna_text(
        "search_space:\n  lr: {type: float, low: -1, high: 0.1}\n", resolved
    )
    assert config is None and "lr" in problems[0]


def test_set_value_keeps_comments_and_other_lines():
    text = "# top\nlr: 0.001   # learning rate\nsplit_ratios:\n  - 0.7\n  - 0.3\n  - 0\nseed: 1\n"
    text = set_top_level_value(text, "lr", 0.02)
    assert "lr: 0.02   # learning rate\n" in text
    text = set_top_level_value(text, "split_ratios", (0.8, 0.1, 0.1))
    assert "split_ratios: [0.8, 0.1, 0.1]\nseed: 1\n" in text
    text = set_top_level_value(text, "run_name", "007")
    assert text.endswith("run_name: '007'\n") and text.startswith("# top\n")
    assert yaml_value_text(True) == "true" and yaml_value_text(1e-5) == "1.0e-05"
