import pytest

from core.config import resolve_params
from core.config.optuna_params import check_against_params, load_optuna_params
from core.errors import CockpitError


def test_example_study_is_valid(workspace):
    config = load_optuna_params(workspace.optuna_params_file)
    check_against_params(config, resolve_params(workspace), "optuna_params.yaml")
    assert config.study.metric == "valid_acc"
    assert set(config.search_space) == {"lr", "batch_size", "optimizer"}


def write(tmp_path, space, study="study: {metric: valid_acc}\n", base=""):
    path = tmp_path / "optuna_params.yaml"
    path.write_text(study + base + "search_space:\n" + space)
    return path


@pytest.mark.parametrize(
    ("space", "expected"),
    [
        (
            "  lr: {type: float, low: 0.1, high: 0.01}\n",
            r"search_space\.lr: low \(0\.1\) must be below high",
        ),
        ("  lr: {type: float, low: 0, high: 0.1, log: true}\n", r"log range needs low > 0"),
        (
            "  batch_size: {type: int, low: 8, high: 64, step: 0}\n",
            r"step: Input should be greater than or equal to 1",
        ),
        (
            "  optimizer: {type: categorical, choices: []}\n",
            r"choices: List should have at least 1 item",
        ),
        ("  lr: {type: normal, low: 0, high: 1}\n", r"search_space\.lr: Input tag 'normal'"),
    ],
)
def test_bad_search_space_is_rejected_with_key(tmp_path, space, expected):
    with pytest.raises(CockpitError, match=expected):
        load_optuna_params(write(tmp_path, space))


def test_unknown_or_out_of_range_parameters_are_rejected(workspace, tmp_path):
    resolved = resolve_params(workspace)
    unknown = load_optuna_params(
        write(tmp_path, "  learning_rate: {type: float, low: 0.1, high: 1}\n")
    )
    with pytest.raises(CockpitError, match="learning_rate: not a parameter"):
        check_against_params(unknown, resolved, "optuna_params.yaml")
    out_of_range = load_optuna_params(write(tmp_path, "  lr: {type: float, low: -1, high: 1}\n"))
    with pytest.raises(CockpitError, match=r"search_space: lr: Input should be greater than 0"):
        check_against_params(out_of_range, resolved, "optuna_params.yaml")
    bad_choice = load_optuna_params(
        write(tmp_path, "  optimizer: {type: categorical, choices: [adam, rmsprop]}\n")
    )
    with pytest.raises(CockpitError, match="'rmsprop' is not one of"):
        check_against_params(bad_choice, resolved, "optuna_params.yaml")


def test_direction_must_fit_metric(tmp_path):
    path = write(
        tmp_path,
        "  lr: {type: float, low: 0.001, high: 0.1}\n",
        study="study: {metric: valid_loss, direction: maximize}\n",
    )
    with pytest.raises(CockpitError, match="valid_loss should be minimized"):
        load_optuna_params(path)
