"""A small study file for the store and cluster tests: the tiny training settings as the
study's fixed parameters, one searched parameter."""

from __future__ import annotations

from tests.core.training.conftest import TINY

LR_SPACE = "lr: {type: float, low: 1.0e-4, high: 1.0e-1, log: true}"
OPTIMIZER_SPACE = "optimizer: {type: categorical, choices: [adam, sgd]}"


def write_study(ws, study: str, *, max_epochs: int = 1, space: str = LR_SPACE) -> None:
    """``study``: the ``study:`` mapping's entries, e.g. ``name: s, n_trials: 2``."""
    tiny = dict(item.split("=") for item in TINY)
    tiny["max_epochs"] = str(max_epochs)
    base = ", ".join(f"{k}: {v}" for k, v in tiny.items())
    ws.optuna_params_file.write_text(
        f"study: {{{study}}}\nbase_params: {{{base}}}\nsearch_space:\n  {space}\n"
    )
