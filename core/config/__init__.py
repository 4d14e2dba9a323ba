"""Configuration: dataclass configs merged into ``all_params`` and the YAML files."""

from core.config.common import CommonConfig
from core.config.fields import ParamSpec, param_specs
from core.config.overrides import Override, parse_overrides
from core.config.params import (
    DefinitionChoice,
    ResolvedParams,
    choose_definitions,
    merged_specs,
    resolve_params,
    validate_params,
)

__all__ = [
    "CommonConfig",
    "DefinitionChoice",
    "Override",
    "ParamSpec",
    "ResolvedParams",
    "choose_definitions",
    "merged_specs",
    "param_specs",
    "parse_overrides",
    "resolve_params",
    "validate_params",
]
