"""Resolve ``all_params``: Common < Dataset < Adapter < Model defaults, then
``configs/params.yaml``, then ``--set`` overrides; validated with one clear message per
problem, naming the file (or option) and the key."""

from __future__ import annotations

import difflib
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, ValidationError, create_model

from core.config.augments import AugmentsConfig, load_augments
from core.config.common import CommonConfig
from core.config.fields import ParamSpec, param_specs
from core.config.overrides import Override
from core.config.yaml_schema import validate_document
from core.errors import CockpitError
from core.fileio import load_yaml_mapping
from core.hashing import experiment_id
from core.registry import Registry, RegistryFile
from core.registry.sources import source_digests
from core.workspace import Workspace

SELECTOR_KEYS = ("dataset", "model", "adapter")


@dataclass(frozen=True)
class DefinitionChoice:
    """Which dataset, model and adapter an experiment uses, with their config classes."""

    dataset: str
    model: str
    adapter: str
    config_classes: tuple[tuple[str, type], ...]  # (owner label, dataclass) in merge order


@dataclass(frozen=True)
class ResolvedParams:
    """The validated, complete ``all_params`` and where each value came from, with the
    rest of what decides the trained weights: the augmentations, the registry entries of
    the chosen definitions and the digests of their source files."""

    values: dict[str, Any]
    sources: dict[str, str]
    specs: dict[str, ParamSpec]
    choice: DefinitionChoice
    workspace_root: Path | None = None
    params_file: Path | None = None
    augments: AugmentsConfig = field(default_factory=AugmentsConfig)
    registry: RegistryFile = field(default_factory=RegistryFile)
    code: dict[str, str] = field(default_factory=dict)
    #: keys of UNHASHED_KEYS hashed after all (trials of a study that searches max_epochs)
    hashed_keys: tuple[str, ...] = ()

    # only with ``resolve_params(skip_unknown=True)``: unknown key -> where it was written
    unknown: dict[str, str] = field(default_factory=dict)

    @property
    def augments_document(self) -> dict[str, Any]:
        """The validated augmentations in canonical form (what is hashed and frozen)."""
        return self.augments.model_dump(mode="json")

    def experiment_id(self, data_fingerprint: Mapping[str, Any] | str | None = None) -> str:
        """The deterministic id of this configuration plus the data snapshot's fingerprint."""
        return experiment_id(
            self.values,
            data_fingerprint,
            augments=self.augments_document,
            code=self.code,
            hashed_keys=self.hashed_keys,
            base_dir=self.workspace_root,
        )

    def section(self, config_cls: type) -> Any:
        """An instance of one definition's dataclass config, filled from ``all_params``."""
        names = [s.name for s in param_specs(config_cls, config_cls.__name__)]
        return config_cls(**{name: self.values[name] for name in names})


def _reject_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {str(value).lower()}")
    return value


def _validator_annotation(spec: ParamSpec) -> Any:
    if spec.base_type in (int, float):
        return Annotated[spec.annotation, BeforeValidator(_reject_bool)]
    return spec.annotation


def merged_specs(config_classes: Sequence[tuple[str, type]]) -> dict[str, ParamSpec]:
    """Flat parameter specs; a later config (Model beats Adapter beats Dataset beats
    Common) redefines a parameter of an earlier one."""
    specs: dict[str, ParamSpec] = {}
    for owner, cls in config_classes:
        for spec in param_specs(cls, owner):
            specs[spec.name] = spec
    return specs


def choose_definitions(
    registry: Registry, raw: Mapping[str, Any], sources: Mapping[str, str] | None = None
) -> DefinitionChoice:
    """The dataset, model and adapter named in ``raw`` (or the defaults), with their configs."""
    defaults = CommonConfig()
    names = {key: raw.get(key, getattr(defaults, key)) for key in SELECTOR_KEYS}

    def lookup(key: str, find: Any) -> Any:
        where = (sources or {}).get(key, "default")
        if not isinstance(names[key], str):
            raise CockpitError(f"{where}: {key}: expected a definition name, got {names[key]!r}")
        try:
            return find()
        except CockpitError as exc:
            raise CockpitError(f"{where}: {key}: {exc}") from exc

    dataset = lookup("dataset", lambda: registry.dataset(names["dataset"]))
    model = lookup("model", lambda: registry.model(names["model"]))
    adapter = lookup("adapter", lambda: registry.adapter(names["model"], names["adapter"]))
    classes = (
        ("common", CommonConfig),
        (
            f"dataset {names['dataset']}",
            registry.load_object(dataset.config, f"datasets.{names['dataset']}.config"),
        ),
        (
            f"adapter {names['model']}/{names['adapter']}",
            registry.load_object(
                adapter.config, f"models.{names['model']}.adapters.{names['adapter']}.config"
            ),
        ),
        (
            f"model {names['model']}",
            registry.load_object(model.config, f"models.{names['model']}.config"),
        ),
    )
    return DefinitionChoice(names["dataset"], names["model"], names["adapter"], classes)


def unknown_key_problem(key: str, where: str, specs: Mapping[str, ParamSpec]) -> str:
    """``<where>: unknown key 'x' (did you mean 'y'?)``."""
    close = difflib.get_close_matches(key, list(specs), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{where}: unknown key {key!r}{hint}"


def _fixed_length(spec: ParamSpec | None) -> int | None:
    """How many values a fixed-length tuple parameter takes, else None."""
    if spec is None or typing.get_origin(spec.base_type) is not tuple:
        return None
    args = typing.get_args(spec.base_type)
    return None if Ellipsis in args else len(args)


def _format_error(
    error: Mapping[str, Any], sources: Mapping[str, str], specs: Mapping[str, ParamSpec]
) -> str:
    key = str(error["loc"][0]) if error["loc"] else "(all)"
    where = sources.get(key, "configs/params.yaml")
    if error["type"] == "extra_forbidden":
        problem = unknown_key_problem(key, where, specs)
        return f"{problem}; `cockpit config show` lists the known keys"
    spec = specs.get(key)
    length = _fixed_length(spec)
    if length is not None and error["type"] in ("missing", "too_long", "tuple_type"):
        example = "[" + ", ".join(str(v) for v in spec.default) + "]"
        what = f": {spec.description}" if spec.description else ""
        return (
            f"{where}: {key}: expected {length} values{what}; got {error.get('input')!r}; "
            f"write e.g. {key}: {example}"
        )
    message = error["msg"].removeprefix("Value error, ")
    got = error.get("input")
    if spec is not None and spec.choices:
        choices = ", ".join(repr(c) for c in spec.choices)
        return f"{where}: {key}: {got!r} is not one of {choices}"
    expected = ""
    if spec is not None and spec.base_type in (int, float):
        symbols = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
        bounds = ", ".join(f"{symbols[k]} {v}" for k, v in spec.bounds.items())
        expected = f" (expected {spec.base_type.__name__}{' ' + bounds if bounds else ''})"
    return f"{where}: {key}: {message}{expected}; got {got!r}"


def validate_params(
    raw: Mapping[str, Any],
    specs: Mapping[str, ParamSpec],
    sources: Mapping[str, str],
) -> dict[str, Any]:
    """Validate ``raw`` against ``specs``; missing keys take their defaults."""
    model = create_model(  # type: ignore[call-overload]
        "AllParams",
        __config__=ConfigDict(extra="forbid", validate_default=True),
        **{name: (_validator_annotation(spec), spec.default) for name, spec in specs.items()},
    )
    try:
        validated = model(**raw)
    except ValidationError as exc:
        # a tuple short of two values fails twice with the same message
        lines = list(dict.fromkeys(_format_error(e, sources, specs) for e in exc.errors()))
        raise CockpitError("\n".join(lines)) from exc
    return {name: getattr(validated, name) for name in specs}


def resolve_params(
    workspace: Workspace,
    *,
    params_file: Path | None = None,
    overrides: Sequence[Override] = (),
    base: Mapping[str, Any] | None = None,
    base_label: str = "base parameters",
    read_params_file: bool = True,
    augments: AugmentsConfig | Mapping[str, Any] | None = None,
    registry: RegistryFile | Mapping[str, Any] | None = None,
    code: Mapping[str, str] | None = None,
    skip_unknown: bool = False,
) -> ResolvedParams:
    """The experiment's complete, validated ``all_params``.

    ``params_file`` defaults to the workspace's ``configs/params.yaml`` (missing = all
    defaults). ``base`` is a mapping applied before the file (tuning's ``base_params``, or
    a job's frozen parameters with ``read_params_file=False``). ``augments`` and
    ``registry`` are frozen copies (a job's) used instead of the workspace's files;
    ``code`` the source digests an experiment recorded (restoring it), instead of the
    digests of the files now. ``skip_unknown`` leaves
    keys no definition declares out instead of refusing them, and names them in
    ``ResolvedParams.unknown`` (for ``cockpit config show``, which must work to list the
    known keys).
    """
    path = Path(params_file) if params_file else workspace.params_file
    from_file = (
        load_yaml_mapping(path, "parameter file", missing_ok=params_file is None)
        if read_params_file
        else {}
    )
    file_label = workspace.relative(path)

    raw: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, value in (base or {}).items():
        raw[key], sources[key] = value, base_label
    for key, value in from_file.items():
        raw[key], sources[key] = value, file_label

    if registry is None:
        registry_obj = Registry.from_workspace(workspace)
    else:
        frozen = (
            registry
            if isinstance(registry, RegistryFile)
            else validate_document(RegistryFile, dict(registry), f"{base_label}: registry")
        )
        registry_obj = Registry(workspace, frozen)
    # selectors first: they decide which definitions' parameters exist at all
    for item in overrides:
        if item.key in SELECTOR_KEYS:
            raw[item.key], sources[item.key] = item.raw, item.label
    choice = choose_definitions(registry_obj, raw, sources)
    specs = merged_specs(choice.config_classes)

    for item in overrides:
        if item.key in SELECTOR_KEYS:
            continue
        spec = specs.get(item.key)
        target = spec.base_type if spec else str
        raw[item.key], sources[item.key] = item.typed_value(target), item.label

    unknown = {}
    if skip_unknown:
        unknown = {key: sources[key] for key in raw if key not in specs}
        raw = {key: value for key, value in raw.items() if key not in unknown}
    values = validate_params(raw, specs, sources)
    for name, spec in specs.items():
        sources.setdefault(name, f"default ({spec.owner})")
    chosen = registry_obj.chosen(choice.dataset, choice.model, choice.adapter)
    if code is None:
        where = f"{registry_obj.path.name} "
        code = source_digests(workspace.root, [(where + loc, ref) for loc, ref in chosen.refs()])
    return ResolvedParams(
        values=values,
        sources={name: sources[name] for name in specs},
        specs=specs,
        choice=choice,
        workspace_root=workspace.root,
        params_file=path if read_params_file and path.exists() else None,
        augments=_augments(workspace, augments, base_label),
        registry=chosen,
        code=dict(code),
        unknown=unknown,
    )


def _augments(
    workspace: Workspace, frozen: AugmentsConfig | Mapping[str, Any] | None, label: str
) -> AugmentsConfig:
    if frozen is None:
        return load_augments(workspace.augments_file)
    if isinstance(frozen, AugmentsConfig):
        return frozen
    return validate_document(AugmentsConfig, dict(frozen), f"{label}: augments")
