"""``cockpit init DIR``: a new workspace with example configs and definitions.

The examples are this checkout's own ``configs/`` and ``definitions/`` (the repository
root is itself a workspace), so what ``init`` writes is exactly what ``make run`` uses.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import CockpitError
from core.fileio import atomic_write_text
from core.workspace import Workspace

TEMPLATE_GLOBS = ("configs/*.yaml", "configs/*.json", "definitions/**/*.py")


def _template_root() -> Path:
    """This checkout (the repository root is the example workspace) or, where the project
    was installed from a wheel (pip, pipx), the copy packaged as ``core/_template``."""
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "configs" / "registry.json").is_file():
        return checkout
    return Path(__file__).resolve().parent / "_template"


TEMPLATE_ROOT = _template_root()

WORKSPACE_GITIGNORE = """\
# Experiment Cockpit runtime state: data, stores and outputs are not source
/images/
/database.db*
/mlflow.db*
/.mlflow.db*
/mlartifacts/
/optuna.db*
/output/
/queue/
__pycache__/
"""


@dataclass
class InitReport:
    workspace: Workspace
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def template_files(template_root: Path = TEMPLATE_ROOT) -> Iterator[Path]:
    if not (template_root / "configs" / "registry.json").is_file():
        raise CockpitError(
            f"the example workspace is missing from {template_root} (configs/registry.json); "
            "reinstall Experiment Cockpit (`pip install .` in its repository)"
        )
    for pattern in TEMPLATE_GLOBS:
        for path in sorted(template_root.glob(pattern)):
            if "__pycache__" not in path.parts and path.is_file():
                yield path


def init_workspace(target: Path, *, overwrite: bool = False) -> InitReport:
    """Scaffold ``target``; existing files are kept unless ``overwrite``."""
    workspace = Workspace.resolve(target)
    if workspace.root == TEMPLATE_ROOT:
        report = InitReport(workspace.ensure_dirs())
        report.kept.append("(this checkout is the example workspace itself)")
        return report
    report = InitReport(workspace)
    try:
        workspace.root.mkdir(parents=True, exist_ok=True)
        for source in template_files():
            relative = source.relative_to(TEMPLATE_ROOT)
            destination = workspace.root / relative
            if destination.exists() and not overwrite:
                report.kept.append(relative.as_posix())
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
            report.written.append(relative.as_posix())
    except OSError as exc:
        raise CockpitError(
            f"cannot create workspace files in {workspace.root}: {exc.strerror or exc}"
        ) from exc
    gitignore = workspace.root / ".gitignore"
    if not gitignore.exists():
        atomic_write_text(gitignore, WORKSPACE_GITIGNORE)
        report.written.append(".gitignore")
    workspace.ensure_dirs()
    return report
