"""``configs/optuna_params.yaml``: the tuning study and its search space.

study:
  name: simple_cnn_study
  direction: maximize
  metric: valid_acc
  n_trials: 20
  timeout: null        # seconds; null = no limit
  sampler: auto        # auto | random | grid | tpe | cmaes
  pruner: auto         # auto | none | median | hyperband
  n_parallel: 1        # workers (queue jobs, Ray jobs on a cluster) sharing the study
base_params:           # fixed parameters of every trial
  max_epochs: 5
search_space:
  lr: {type: float, low: 1.0e-4, high: 1.0e-1, log: true}
  batch_size: {type: int, low: 16, high: 64, step: 16}
  optimizer: {type: categorical, choices: [adam, sgd]}
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.config.params import ResolvedParams, validate_params
from core.config.yaml_schema import validate_document
from core.errors import CockpitError
from core.fileio import load_yaml_mapping
from core.names import NAME_RULE, name_problem

METRICS = ("valid_acc", "valid_loss", "test_acc", "test_loss")  # of the best weights


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FloatRange(_Strict):
    type: Literal["float"]
    low: float
    high: float
    log: bool = False
    step: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _check(self) -> FloatRange:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        if self.log and self.step is not None:
            raise ValueError("use either log or step, not both")
        return self


class IntRange(_Strict):
    type: Literal["int"]
    low: int
    high: int
    log: bool = False
    step: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _check(self) -> IntRange:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log and (self.low <= 0 or self.step != 1):
            raise ValueError("a log range needs low > 0 and step 1")
        return self


class Categorical(_Strict):
    type: Literal["categorical"]
    choices: list[Any] = Field(min_length=1)


SearchDimension = Annotated[FloatRange | IntRange | Categorical, Field(discriminator="type")]


class StudySettings(_Strict):
    name: str = Field(default="study")
    direction: Literal["maximize", "minimize"] = "maximize"
    metric: Literal[METRICS] = "valid_acc"  # type: ignore[valid-type]
    n_trials: int = Field(default=20, ge=1, le=100_000)
    timeout: float | None = Field(default=None, gt=0, description="seconds; null = no limit")
    sampler: Literal["auto", "random", "grid", "tpe", "cmaes"] = "auto"
    pruner: Literal["auto", "none", "median", "hyperband"] = "auto"
    # workers sharing the study: parallel queue jobs (one per free GPU, CPU slot or Ray
    # cluster slot); each asks the shared Optuna storage for its next trial
    n_parallel: int = Field(default=1, ge=1, le=64)

    @field_validator("name")
    @classmethod
    def _name_rule(cls, value: str) -> str:
        # the study name becomes output/studies/<name>/ and configs/best_params_<name>.yaml
        problem = name_problem(value)
        if problem is not None:
            raise ValueError(f"{value!r} is not allowed ({problem}): {NAME_RULE}")
        return value

    @model_validator(mode="after")
    def _direction_fits_metric(self) -> StudySettings:
        wants = "minimize" if self.metric.endswith("_loss") else "maximize"
        if self.direction != wants:
            raise ValueError(f"metric {self.metric} should be {wants}d, not {self.direction}d")
        return self


class OptunaParams(_Strict):
    study: StudySettings = Field(default_factory=StudySettings)
    base_params: dict[str, Any] = Field(default_factory=dict)
    search_space: dict[str, SearchDimension] = Field(min_length=1)


def load_optuna_params(path: Path) -> OptunaParams:
    data = load_yaml_mapping(path, "tuning file")
    return validate_document(OptunaParams, data, path)


def check_against_params(config: OptunaParams, resolved: ResolvedParams, path: Path | str) -> None:
    """Every tuned or fixed key must be a parameter of the experiment, and every bound or
    choice a valid value of it (``lr: {low: -1}`` fails here, naming the key)."""
    specs = resolved.specs
    problems: list[str] = []
    for key in [*config.search_space, *config.base_params]:
        if key not in specs:
            problems.append(f"{path}: {key}: not a parameter of this experiment")
    if problems:
        raise CockpitError("\n".join(problems))
    base_sources = {k: f"{path}: base_params" for k in config.base_params}
    validate_params(config.base_params, specs, base_sources)
    for key, dim in config.search_space.items():
        if key in ("dataset", "model", "adapter"):
            raise CockpitError(f"{path}: search_space.{key}: definitions cannot be tuned yet")
        values = dim.choices if isinstance(dim, Categorical) else [dim.low, dim.high]
        for value in values:
            validate_params({key: value}, specs, {key: f"{path}: search_space"})
