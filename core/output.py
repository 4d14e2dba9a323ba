"""What a user reads: the project's own lines, not the libraries' chatter.

MLflow, Alembic, Lightning, Optuna and torch write INFO lines, progress bars and warnings
meant for their developers ("Creating initial MLflow database tables", "GPU available",
ExperimentalWarning, torch.jit FutureWarning, "Downloading artifacts"). The command line
and every job process call :func:`configure_output` first, before those libraries are
imported: library records below ERROR and warnings raised inside installed packages are
then dropped, or with ``--verbose`` (``COCKPIT_VERBOSE=1``, inherited by the runner and
its jobs) written to stderr as ``debug:`` lines — a job's stderr is its log.

Also here: :func:`fit_line`, how a progress line fits a narrow terminal.
"""

from __future__ import annotations

import logging
import os
import sys
import sysconfig
import warnings
from pathlib import Path
from typing import TextIO

VERBOSE_ENV = "COCKPIT_VERBOSE"
# Set before the libraries are imported (in this process and in the processes it starts).
QUIET_ENVIRONMENT = {
    # MLflow then leaves its loggers to the root handler below instead of printing INFO
    "MLFLOW_CONFIGURE_LOGGING": "false",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    # with a tracking server, each ended run printed two "View run ... at: URL" lines
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    # albumentations asks PyPI for a newer version on import (up to 2 s, and the network)
    "NO_ALBUMENTATIONS_UPDATE": "1",
    # (MLflow's telemetry is turned off by importing ``core`` at all: core/__init__.py)
}
OWN_LOGGERS = ("core", "cockpit", "__main__")
# sqlalchemy logs every statement when its logger allows INFO: never, even with -v
SILENT_LOGGERS = ("sqlalchemy", "urllib3", "PIL", "matplotlib", "filelock", "fsspec")
# libraries that install a handler of their own on import unless told not to
LIBRARY_OWN_HANDLERS = ("mlflow",)
_LIBRARY_ROOTS = tuple(
    str(Path(p).resolve())
    for p in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
)
# the project's own packages, also when installed into site-packages
_PROJECT = Path(__file__).resolve().parent.parent
_OWN_ROOTS = tuple(str(_PROJECT / name) for name in ("core", "cockpit"))
_HANDLER_NAME = "cockpit-output"


def verbose_requested() -> bool:
    return os.environ.get(VERBOSE_ENV, "") not in ("", "0", "false")


class _UserFacing(logging.Filter):
    """The project's warnings and every library's errors; nothing else."""

    def filter(self, record: logging.LogRecord) -> bool:
        own = record.name.split(".")[0] in OWN_LOGGERS
        return record.levelno >= (logging.WARNING if own else logging.ERROR)


class _DebugOnly(logging.Filter):
    """What :class:`_UserFacing` drops (with ``--verbose``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _UserFacing().filter(record)


def _from_library(filename: str) -> bool:
    try:
        resolved = str(Path(filename).resolve())
    except (OSError, ValueError):
        return False
    if resolved.startswith(_OWN_ROOTS):
        return False
    return resolved.startswith(_LIBRARY_ROOTS) or "<frozen" in filename


def _library_category(category: type[Warning]) -> bool:
    """Deprecations, and a library's own warning classes (Optuna's ExperimentalWarning),
    speak to developers even when their stack level points into this project."""
    if issubclass(category, (DeprecationWarning, PendingDeprecationWarning, FutureWarning)):
        return True
    return category.__module__.split(".")[0] not in ("builtins", *OWN_LOGGERS)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    if _from_library(filename) or _library_category(category):
        text = f"{category.__name__}: {message} ({filename}:{lineno})"
        logging.getLogger("py.warnings").info(text)
        return
    print(f"warning: {message}", file=file or sys.stderr)


def configure_output(verbose: bool | None = None) -> None:
    """Quiet the libraries for this process and the processes it starts. Idempotent."""
    if verbose is None:
        verbose = verbose_requested()
    for key, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    if verbose:
        os.environ[VERBOSE_ENV] = "1"
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != _HANDLER_NAME]
    user = logging.StreamHandler(sys.stderr)
    user.set_name(_HANDLER_NAME)
    user.addFilter(_UserFacing())
    user.setFormatter(logging.Formatter("%(levelname_lower)s: %(message)s"))
    user.addFilter(_lower_level)
    root.addHandler(user)
    if verbose:
        debug = logging.StreamHandler(sys.stderr)
        debug.set_name(_HANDLER_NAME)
        debug.addFilter(_DebugOnly())
        debug.setFormatter(logging.Formatter("debug: %(name)s: %(levelname)s: %(message)s"))
        root.addHandler(debug)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    for name in SILENT_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in LIBRARY_OWN_HANDLERS:
        # imported before this call (a library loaded first, or a second call in one
        # process): its own handler prints past ours; hand its records to the root
        library = logging.getLogger(name)
        library.handlers = []
        library.propagate = True
        library.setLevel(logging.NOTSET)
    warnings.showwarning = _show_warning


def _lower_level(record: logging.LogRecord) -> bool:
    record.levelname_lower = record.levelname.lower()
    return True


def fit_line(text: str, width: int) -> str:
    """``text`` cut to ``width`` columns (an ellipsis marks the cut)."""
    if width <= 0 or len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…"


def quiet_mlflow() -> None:
    """MLflow prints some lines itself, past its loggers ("Successfully registered model",
    "Created version"): they become log records like the rest (shown with ``--verbose``).
    Call after importing mlflow; idempotent."""
    from mlflow.utils import logging_utils

    stream = logging_utils.MLFLOW_LOGGING_STREAM
    # not under "mlflow": that logger's own handler (when MLflow configured it) writes
    # to this very stream
    log = logging.getLogger("mlflow-prints")

    def write(text: str) -> int:
        if text.strip():
            log.info(text.rstrip())
        return len(text)

    # instance attributes: MLflow toggles the stream's own enabled flag around some calls
    stream.write = write
    stream.flush = lambda: None


def progress_line(
    epoch: int, epochs: int, step: int, steps: int | None, metrics: dict[str, float], width: int
) -> str:
    """One live line of a training: ``epoch 2/5 [#####.....] 12/40  train_loss 0.5321``,
    1-based like the epoch lines, cut to ``width`` columns."""
    head = f"epoch {epoch}/{epochs}"
    if steps:
        filled = min(20, round(20 * step / steps))
        head += f" [{'#' * filled}{'.' * (20 - filled)}] {step}/{steps}"
    else:
        head += f" step {step}"
    shown = "  ".join(f"{k} {v:.4f}" for k, v in sorted(metrics.items()))
    return fit_line(f"{head}  {shown}" if shown else head, width)
