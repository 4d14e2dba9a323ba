"""Suggestions: a registered model version predicts a theme's unlabeled (or all) images
in batches through its pyfunc model (the training's own preprocessing), and each image's
suggested label, top-k probabilities and uncertainty are stored per model version."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import DateTime, select

from core.assist.mlflow_runs import log_assist_run
from core.assist.scores import uncertainty
from core.data.themes import get_theme
from core.db import AssistRun, Database, Label, Prediction, TrainData, open_database
from core.db.models import utcnow
from core.errors import CockpitError
from core.workspace import Workspace

Echo = Callable[[str], None]
BATCH = 256
STORE_EVERY = 2048  # rows per database transaction
TOP_K = 3


@dataclass
class SuggestOutcome:
    run_id: int
    model_name: str
    model_version: str
    predicted: int = 0
    unreadable: list[str] = field(default_factory=list)
    by_label: dict[str, int] = field(default_factory=dict)
    mlflow_run_id: str | None = None
    seconds: float = 0.0

    @property
    def spec(self) -> str:
        return f"{self.model_name}/{self.model_version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "model": self.spec,
            "predicted": self.predicted,
            "unreadable": self.unreadable,
            "by_label": self.by_label,
            "mlflow_run_id": self.mlflow_run_id,
            "seconds": round(self.seconds, 3),
        }


def label_set_problem(model_classes: Sequence[str], theme_labels: Sequence[str]) -> str | None:
    """Why a model cannot suggest labels for a theme (its classes differ), or None."""
    missing = sorted(set(theme_labels) - set(model_classes))
    extra = sorted(set(model_classes) - set(theme_labels))
    if not missing and not extra:
        return None
    parts = []
    if missing:
        parts.append(f"the theme's labels {', '.join(missing)} are unknown to the model")
    if extra:
        parts.append(f"the model's classes {', '.join(extra)} are not labels of the theme")
    return "; ".join(parts)


def _images(db: Database, theme_id: int, every: bool) -> list[tuple[int, str]]:
    with db.session() as session:
        query = select(TrainData.id, TrainData.image_path).where(TrainData.theme_id == theme_id)
        if not every:
            query = query.where(TrainData.label_id.is_(None))
        return [tuple(row) for row in session.execute(query.order_by(TrainData.id)).all()]


def _read_chunk(
    root: str, chunk: list[tuple[int, str]]
) -> tuple[list[bytes], list[tuple[int, str]], list[str]]:
    """The bytes of a batch's files, the (id, path) of those read, and the paths that
    could not be read."""
    blobs, readable, unreadable = [], [], []
    for image_id, path in chunk:
        try:
            with open(os.path.join(root, path), "rb") as file:
                blobs.append(file.read())
        except OSError:
            unreadable.append(path)
            continue
        readable.append((image_id, path))
    return blobs, readable, unreadable


def suggest(
    workspace: Workspace,
    theme_name: str,
    spec: str,
    *,
    every: bool = False,
    batch_size: int = BATCH,
    echo: Echo = print,
    log_mlflow: bool = True,
    job_id: str | None = None,
) -> SuggestOutcome:
    """Predict the theme's unlabeled images (``every``: all of them) with model ``spec``;
    the model's classes must be the theme's labels. Stored per image and model version
    (a rerun of the same version replaces its earlier predictions)."""
    started = time.perf_counter()
    db = open_database(workspace)
    with db.session() as session:
        theme = get_theme(session, theme_name)
        theme_id = theme.id
        labels = {label.label_name: label.id for label in theme.labels}
    from core.models.predict import PROB_PREFIX, load_pyfunc, predict_batch

    version, model, classes = load_pyfunc(workspace, spec, option="--model")
    problem = label_set_problem(classes, list(labels))
    if problem is not None:
        raise CockpitError(
            f"--model {version.spec} does not match theme {theme_name!r}: {problem}; train a "
            f"version on the theme's labels (`cockpit train --theme {theme_name}`) or choose "
            "another --model"
        )
    images = _images(db, theme_id, every)
    with db.session() as session:
        run = AssistRun(
            theme_id=theme_id,
            kind="suggest",
            model_name=version.name,
            model_version=version.version,
            params_json=json.dumps(
                {"every": every, "batch_size": batch_size}
                | ({"job_id": job_id} if job_id else {})
            ),
        )
        session.add(run)
        session.flush()
        run_id = run.id
    outcome = SuggestOutcome(run_id, version.name, version.version)
    echo(
        f"suggesting labels for {len(images)} {'' if every else 'unlabeled '}image(s) of "
        f"{theme_name!r} with {version.spec}"
    )
    ranked: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    encoded = [json.dumps(name) for name in classes]
    columns = [PROB_PREFIX + name for name in classes]
    root = str(workspace.root)
    chunks = [images[start : start + batch_size] for start in range(0, len(images), batch_size)]
    pending: list[tuple[Any, ...]] = []
    for number, chunk in enumerate(chunks):
        blobs, readable, unreadable = _read_chunk(root, chunk)
        outcome.unreadable += unreadable
        frame, kept, _errors = predict_batch(model, blobs) if blobs else (None, [], {})
        outcome.unreadable += [
            readable[i][1] for i in sorted(set(range(len(readable))) - set(kept))
        ]
        if frame is None:
            continue
        # column by column: a frame[columns] selection copies a frame (a millisecond a batch)
        probs = np.column_stack([frame[c].to_numpy(dtype=np.float64) for c in columns])
        least, margin, entropy = uncertainty(probs)
        # whole-batch numpy, then plain Python values (a row at a time cost a third
        # of what suggesting adds to a bare predict)
        order = np.argsort(-probs, axis=1, kind="stable")[:, :TOP_K]
        top_probs = np.take_along_axis(probs, order, axis=1).round(6).tolist()
        best_probs = np.take_along_axis(probs, order[:, :1], axis=1)[:, 0].tolist()
        order_list = order.tolist()
        least_list, margin_list = least.tolist(), margin.tolist()
        entropy_list = entropy.tolist()
        rows = []
        for row, position in enumerate(kept):
            image_id, path = readable[position]
            picked = order_list[row]
            best = classes[picked[0]]
            # the top classes as JSON, from the names encoded once (a json.dumps per
            # row was a tenth of what suggesting adds); a float's repr is its JSON
            top = ", ".join(
                f"[{encoded[i]}, {p!r}]" for i, p in zip(picked, top_probs[row], strict=True)
            )
            counts[best] += 1
            rows.append(
                (
                    theme_id,
                    image_id,
                    version.name,
                    version.version,
                    labels[best],
                    best_probs[row],
                    f"[{top}]",
                    least_list[row],
                    margin_list[row],
                    entropy_list[row],
                    run_id,
                )
            )
            ranked.append(
                {
                    "image_id": image_id,
                    "path": path,
                    "label": best,
                    "probability": best_probs[row],
                    "margin": margin_list[row],
                    "entropy": entropy_list[row],
                }
            )
        # stored a few batches at a time: a commit per batch cost a tenth of what
        # suggesting adds to a bare predict; a crash loses at most the unstored batches'
        # predictions (no user data: rerunning predicts them again)
        pending += rows
        if len(pending) >= STORE_EVERY:
            _store(db, pending)
            pending = []
        outcome.predicted += len(rows)
        done = min((number + 1) * batch_size, len(images))
        echo(f"  {done}/{len(images)} image(s)")
    _store(db, pending)
    outcome.by_label = dict(sorted(counts.items()))
    outcome.seconds = time.perf_counter() - started
    ranked.sort(key=lambda r: r["margin"])  # most uncertain first: the active-learning order
    if log_mlflow:
        outcome.mlflow_run_id = log_assist_run(
            workspace,
            theme_name,
            "suggest",
            run_name=f"suggest-{version.name}-v{version.version}",
            params={"model": version.spec, "every": every, "batch_size": batch_size},
            counts={
                "predicted": outcome.predicted,
                "unreadable": len(outcome.unreadable),
                **{f"suggested_{k}": v for k, v in outcome.by_label.items()},
            },
            artifact=ranked,
            tags={"model_version": version.spec},
        )
    with db.session() as session:
        stored = session.get(AssistRun, run_id)
        stored.mlflow_run_id = outcome.mlflow_run_id
        stored.counts_json = json.dumps(
            {
                "predicted": outcome.predicted,
                "unreadable": len(outcome.unreadable),
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
    echo(
        f"{outcome.predicted} suggestion(s) stored (suggestion run {run_id}; History: "
        f"suggest-{run_id})"
        + (f"; {len(outcome.unreadable)} unreadable file(s) skipped" if outcome.unreadable else "")
    )
    return outcome


_COLUMNS = (
    "theme_id",
    "train_data_id",
    "model_name",
    "model_version",
    "label_id",
    "probability",
    "top_json",
    "least_confidence",
    "margin",
    "entropy",
    "run_id",
    "created_at",
)
_REPLACED = _COLUMNS[4:]
# one statement handed to the driver's executemany with plain tuples: compiling a
# multi-row VALUES per batch cost more than the prediction itself, and SQLAlchemy's
# per-row parameter processing a fifth of what suggesting adds to a bare predict
# (measured, benchmarks/bench_label_issues.py). The same SQL on SQLite and PostgreSQL.
_UPSERT = (
    f"INSERT INTO prediction ({', '.join(_COLUMNS)}) VALUES ({{marks}}) "
    "ON CONFLICT (train_data_id, model_name, model_version) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _REPLACED)
)


def _store(db: Database, rows: list[tuple[Any, ...]]) -> None:
    """Insert or replace the batch's predictions (tuples in the order of ``_COLUMNS``,
    without ``created_at``) in one transaction."""
    if not rows:
        return
    dialect = db.engine.dialect
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = _UPSERT.format(marks=", ".join([mark] * len(_COLUMNS)))
    # the timestamp as the column type writes it on this backend, converted once
    stamp_type = DateTime(timezone=True).dialect_impl(dialect)
    convert = stamp_type.bind_processor(dialect)
    now = utcnow()
    stamp = convert(now) if convert else now
    values = [(*row, stamp) for row in rows]
    with db.session() as session:
        session.connection().exec_driver_sql(sql, values)


@dataclass(frozen=True)
class Suggestion:
    image_id: int
    image_path: str
    given_label: str | None
    label: str
    probability: float
    top: list[tuple[str, float]]
    least_confidence: float
    margin: float
    entropy: float
    model: str  # NAME/VERSION
    original_name: str | None = None  # the file name it was imported from

    @property
    def disagrees(self) -> bool:
        return self.given_label is not None and self.given_label != self.label


def latest_suggest_run(db: Database, theme_id: int) -> AssistRun | None:
    with db.session() as session:
        return session.scalars(
            select(AssistRun)
            .where(AssistRun.theme_id == theme_id, AssistRun.kind == "suggest")
            .order_by(AssistRun.id.desc())
            .limit(1)
        ).first()


def suggestions(db: Database, theme_name: str, model_spec: str | None = None) -> list[Suggestion]:
    """The stored suggestions of a theme from one model version (``NAME/VERSION``; default:
    the version of the latest suggestion run), most uncertain first."""
    with db.session() as session:
        theme_id = get_theme(session, theme_name).id
    if model_spec:
        name, _, number = model_spec.partition("/")
    else:
        run = latest_suggest_run(db, theme_id)
        if run is None:
            return []
        name, number = run.model_name or "", run.model_version or ""
    with db.session() as session:
        names = dict(session.execute(select(Label.id, Label.label_name)).all())
        rows = session.execute(
            select(Prediction, TrainData.image_path, TrainData.label_id, TrainData.original_name)
            .join(TrainData, TrainData.id == Prediction.train_data_id)
            .where(
                Prediction.theme_id == theme_id,
                Prediction.model_name == name,
                Prediction.model_version == number,
            )
            .order_by(Prediction.margin, Prediction.train_data_id)
        ).all()
    return [
        Suggestion(
            image_id=p.train_data_id,
            image_path=path,
            given_label=names.get(given) if given is not None else None,
            label=names[p.label_id],
            probability=p.probability,
            top=[(str(a), float(b)) for a, b in json.loads(p.top_json)],
            least_confidence=p.least_confidence,
            margin=p.margin,
            entropy=p.entropy,
            model=f"{name}/{number}",
            original_name=original,
        )
        for p, path, given, original in rows
    ]
