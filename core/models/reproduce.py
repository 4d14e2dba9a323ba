"""``cockpit reproduce``: retrain a registered model (or any recorded run) from its record
— parameters, augmentations, data snapshot and split — into a folder of its own, and compare
its metrics with the original's."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.data.snapshot import DataSnapshot, load_snapshot
from core.db import open_database
from core.errors import CockpitError
from core.workspace import Workspace

Echo = Callable[[str], None]


@dataclass
class ReproduceResult:
    original_run: str
    experiment_id: str
    folder: Path
    run_id: str | None
    rows: list[tuple[str, float, float | None]] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return all(new is not None and new == old for _, old, new in self.rows)


def _git_head(root: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def source_run(workspace: Workspace, spec: str | None, run_id: str | None) -> str:
    if run_id:
        return run_id
    from core.models.catalog import resolve_version

    assert spec is not None
    return resolve_version(workspace, spec).run_id


def differences(workspace: Workspace, experiment_id: str, tags: dict[str, str]) -> list[str]:
    """What differs between the run's code and today's: the git commit, definition sources."""
    from core.training.restore import recorded_params

    found = []
    recorded = tags.get("git_commit", "")
    head = _git_head(workspace.root)
    if recorded and head and recorded != head and not recorded.startswith("none"):
        found.append(
            f"git commit: recorded {recorded}, checkout {head} "
            f"(get the recorded one with: git checkout {recorded})"
        )
    current, resolved = recorded_params(workspace, experiment_id, recorded_code=False)
    now = current.code
    for name, digest in sorted((resolved.get("code") or {}).items()):
        if now.get(name) != digest:
            found.append(
                f"definition source {name}: recorded digest {digest}, now {now.get(name, 'gone')}"
                + (f" (get the recorded one with: git checkout {recorded})" if head else "")
            )
    return found


def check_snapshot(workspace: Workspace, snapshot: DataSnapshot) -> None:
    """The recorded images must still be there with the labels and splits they had."""
    now = load_snapshot(open_database(workspace), snapshot.theme_name)
    current = {item.train_data_id: item for item in now.items}
    for item in snapshot.items:
        image = workspace.root / item.image_path
        if not image.exists():
            raise CockpitError(
                f"{item.image_path}: image of the recorded data snapshot is gone; "
                "a reproduction on other data is not one"
            )
        other = current.get(item.train_data_id)
        label = snapshot.class_names[item.class_index]
        if other is None:
            raise CockpitError(
                f"{item.image_path}: no longer labeled with a split (recorded {label!r}, "
                f"split {item.split}); label it {label!r} again to reproduce"
            )
        now_label = now.class_names[other.class_index]
        if now_label != label or other.split != item.split:
            raise CockpitError(
                f"{item.image_path}: label {now_label!r} split {other.split} now, recorded "
                f"{label!r} split {item.split}; set it back to reproduce "
                "(a reproduction on other data is not one)"
            )


def reproduce(
    workspace: Workspace,
    *,
    spec: str | None = None,
    run_id: str | None = None,
    strict: bool = False,
    echo: Echo = print,
) -> ReproduceResult:
    from core.models.catalog import registry_client
    from core.training.restore import restore_experiment
    from core.training.run import Reproduction, train_experiment

    original = source_run(workspace, spec, run_id)
    try:
        run = registry_client(workspace).get_run(original)
    except Exception as exc:
        store = workspace.mlflow_store_label
        raise CockpitError(f"MLflow run {original} is not in {store}") from exc
    tags = dict(run.data.tags)
    experiment_id = tags.get("experiment_hash")
    if not experiment_id:
        raise CockpitError(f"run {original} has no experiment_hash tag: it was not a training")
    params, theme, snapshot = restore_experiment(workspace, experiment_id)
    found = differences(workspace, experiment_id, tags)
    for line in found:
        echo(f"warning: {line}")
    if strict and found:
        raise CockpitError("--strict: " + "; ".join(found))
    check_snapshot(workspace, snapshot)
    params = replace(params, values={**params.values, "registration": "never"})
    base = workspace.root / "output" / "reproductions"
    number = 1
    while (base / f"{experiment_id}-{number}").exists():
        number += 1
    folder = base / f"{experiment_id}-{number}"
    echo(f"reproducing run {original} (experiment {experiment_id}) in {workspace.relative(folder)}")
    outcome = train_experiment(
        workspace,
        theme,
        params,
        echo=echo,
        reproduction=Reproduction(snapshot, folder, {"reproduction_of": original}),
    )
    metrics = {
        k: float(v) for k, v in run.data.metrics.items() if k.startswith(("best_valid_", "test_"))
    }
    result = ReproduceResult(original, experiment_id, folder, outcome.run_id)
    for name in sorted(metrics):
        result.rows.append((name, metrics[name], outcome.metrics.get(name.removeprefix("best_"))))
    return result
