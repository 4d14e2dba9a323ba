"""Run names: the user's, else the parameters that differ from the defaults; a label that
never enters the experiment id."""

from __future__ import annotations

import pytest

from core.config.naming import (
    common_defaults,
    derived_run_name,
    differing_params,
    format_param_value,
)

DEFAULTS = {"model": "simple_cnn", "lr": 0.001, "batch_size": 32, "seed": 42, "run_name": ""}


def test_only_what_differs_in_a_fixed_order():
    values = {**DEFAULTS, "batch_size": 64, "lr": 0.01}
    assert derived_run_name(values, DEFAULTS) == "lr=0.01 bs=64"
    # the order the values were written in does not matter
    assert derived_run_name(dict(reversed(list(values.items()))), DEFAULTS) == "lr=0.01 bs=64"


def test_equal_spellings_are_not_differences():
    assert derived_run_name({**DEFAULTS, "lr": 1e-3, "batch_size": 32.0}, DEFAULTS) == "defaults"


def test_labels_and_unknown_keys_are_left_out():
    values = {**DEFAULTS, "run_name": "mine", "num_workers": 3, "unknown": 5}
    assert differing_params(values, {**DEFAULTS, "num_workers": -1}) == []


def test_long_names_are_cut():
    defaults = {f"p{i}": 0 for i in range(7)}
    values = {f"p{i}": 1 for i in range(7)}
    assert derived_run_name(values, defaults) == "p0=1 p1=1 p2=1 p3=1 +3"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.0001, "0.0001"),
        (1e-05, "1e-05"),
        (0.30000000000000004, "0.3"),
        (64.0, "64"),
        (True, "true"),
        ([3, 5], "3,5"),
        ("a very long optimiser name\nwith a line", "a_very_long_opt…"),
    ],
)
def test_values_are_short(value, shown):
    assert format_param_value(value) == shown


def test_common_defaults_match_the_config():
    defaults = common_defaults()
    assert defaults["lr"] == 0.001 and defaults["batch_size"] == 32
