"""Checks of a study before it runs (a configuration validator and a data validator): errors
stop it, warnings are shown, and a corrected configuration says what would fix them."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.config.optuna_params import Categorical, OptunaParams, check_against_params
from core.config.params import ResolvedParams
from core.data.snapshot import DataSnapshot
from core.errors import CockpitError
from core.tuning.selection import grid_size

MIN_TRAIN_PER_CLASS = 5
MIN_VALID_PER_CLASS = 2


@dataclass
class ValidationResult:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    corrected: OptunaParams | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def is_valid(self) -> bool:
        return not self.errors

    @property
    def corrected_config(self) -> dict | None:
        """The corrected study file as a plain mapping (offered, never applied)."""
        return None if self.corrected is None else self.corrected.model_dump(mode="json")

    def raise_errors(self) -> None:
        if self.errors:
            raise CockpitError("\n".join(self.errors))


def validate_study(
    config: OptunaParams, base: ResolvedParams, snapshot: DataSnapshot, source: str
) -> ValidationResult:
    result = ValidationResult()
    study = config.study.model_copy()
    try:
        check_against_params(config, base, source)
    except CockpitError as exc:
        result.errors.extend(str(exc).splitlines())

    counts = snapshot.counts()
    for name, splits in counts.items():
        if splits["train"] < MIN_TRAIN_PER_CLASS:
            result.warnings.append(
                f"class {name!r} has {splits['train']} train image(s); with fewer than "
                f"{MIN_TRAIN_PER_CLASS} trial results are mostly noise: label more images"
            )
        if splits["valid"] < MIN_VALID_PER_CLASS:
            result.warnings.append(
                f"class {name!r} has {splits['valid']} valid image(s); the metric that ranks "
                "trials will be unstable"
            )
    if study.metric.startswith("test_") and not snapshot.split("test"):
        result.errors.append(
            f"{source}: study.metric: {study.metric} needs test images and the theme has none; "
            f"use {study.metric.replace('test_', 'valid_')}"
        )
        study = study.model_copy(update={"metric": study.metric.replace("test_", "valid_")})

    size = grid_size(config.search_space)
    if size is not None and study.n_trials > size:
        result.warnings.append(
            f"{source}: study.n_trials: {study.n_trials} trials for a space of {size} points; "
            f"{size} cover it"
        )
        study = study.model_copy(update={"n_trials": size})
    categorical = any(isinstance(d, Categorical) for d in config.search_space.values())
    if study.sampler == "cmaes" and categorical:
        result.warnings.append(
            f"{source}: study.sampler: CMA-ES samples categorical parameters at random; "
            "TPE handles them"
        )
        study = study.model_copy(update={"sampler": "tpe"})
    if study != config.study:
        result.corrected = config.model_copy(update={"study": study})
    return result
