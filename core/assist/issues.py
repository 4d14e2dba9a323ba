"""The label-issue finder: out-of-sample probabilities for every labeled image (K-fold
cross-validation, or a registered version's held-out predictions), ranked by cleanlab's
confident learning; plus near-duplicate images and likely outliers. Each run's findings
are stored (``label_issue``) and logged as an MLflow run."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
from sqlalchemy import select

from core.assist.crossval import DEFAULT_FOLDS, out_of_sample
from core.assist.duplicates import DEFAULT_DISTANCE, near_duplicates, perceptual_hashes
from core.assist.mlflow_runs import log_assist_run
from core.config.params import ResolvedParams
from core.data.themes import get_theme
from core.db import (
    AssistRun,
    Database,
    Label,
    LabelIssue,
    Model,
    ModelTrainData,
    TrainData,
    open_database,
)
from core.errors import CockpitError
from core.workspace import Workspace

Echo = Callable[[str], None]
OUTLIER_FRACTION = 0.02  # at most this share of the images is reported as likely outliers


@dataclass(frozen=True)
class Issue:
    kind: str  # label | duplicate | outlier
    rank: int  # 1 = most suspect, within its kind
    image_id: int
    image_path: str
    score: float  # label: cleanlab label quality (low = suspect); duplicate: differing bits;
    #               outlier: cleanlab out-of-distribution score (low = unusual)
    given: str | None = None
    suggested: str | None = None
    other_id: int | None = None
    other_path: str | None = None
    detail: str = ""
    # the file names the images were imported from (what the user knows them by)
    original_name: str | None = None
    other_original_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class IssuesOutcome:
    run_id: int
    source: str
    scored: int  # labeled images that got out-of-sample probabilities
    label_issues: list[Issue] = field(default_factory=list)
    duplicates: list[Issue] = field(default_factory=list)
    outliers: list[Issue] = field(default_factory=list)
    warning: str | None = None
    mlflow_run_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "source": self.source,
            "scored": self.scored,
            "warning": self.warning,
            "label_issues": [i.to_dict() for i in self.label_issues],
            "duplicates": [i.to_dict() for i in self.duplicates],
            "outliers": [i.to_dict() for i in self.outliers],
            "mlflow_run_id": self.mlflow_run_id,
        }


@dataclass(frozen=True)
class Scored:
    image_ids: list[int]
    paths: list[str]
    class_names: tuple[str, ...]
    labels: np.ndarray
    probabilities: np.ndarray


def _from_crossval(workspace, theme_name, params, folds, echo) -> Scored:
    found = out_of_sample(workspace, theme_name, params, folds, echo=echo)
    return Scored(
        [i.train_data_id for i in found.items],
        [i.image_path for i in found.items],
        found.class_names,
        found.labels,
        found.probabilities,
    )


def _from_model(workspace: Workspace, db: Database, theme_name: str, spec: str, echo: Echo):
    """A registered version's predictions of the labeled images it did not train on
    (its valid and test images, and images labeled after it)."""
    import pandas as pd

    from core.assist.suggest import label_set_problem
    from core.models.predict import PROB_PREFIX, load_pyfunc

    version, model, classes = load_pyfunc(workspace, spec, option="--model")
    with db.session() as session:
        theme = get_theme(session, theme_name)
        names = {label.id: label.label_name for label in theme.labels}
        problem = label_set_problem(classes, list(names.values()))
        if problem is not None:
            raise CockpitError(
                f"--model {version.spec} does not match theme {theme_name!r}: {problem}"
            )
        trained = set(
            session.scalars(
                select(ModelTrainData.train_data_id)
                .join(Model, Model.id == ModelTrainData.model_id)
                .join(TrainData, TrainData.id == ModelTrainData.train_data_id)
                .where(Model.mlflow_run_id == version.run_id, TrainData.split == "train")
            )
        )
        rows = session.execute(
            select(TrainData.id, TrainData.image_path, TrainData.label_id)
            .where(TrainData.theme_id == theme.id, TrainData.label_id.is_not(None))
            .order_by(TrainData.id)
        ).all()
    held = [(i, p, names[label]) for i, p, label in rows if i not in trained]
    echo(f"scoring {len(held)} labeled image(s) {version.spec} did not train on")
    probs, kept = [], []
    for image_id, path, label in held:
        try:
            blob = (workspace.root / path).read_bytes()
            frame = model.predict(pd.DataFrame({"image": [blob]}))
        except Exception:
            continue
        probs.append(frame[[PROB_PREFIX + c for c in classes]].to_numpy()[0])
        kept.append((image_id, path, label))
    index = {c: i for i, c in enumerate(classes)}
    return Scored(
        [k[0] for k in kept],
        [k[1] for k in kept],
        tuple(classes),
        np.array([index[k[2]] for k in kept], dtype=int),
        np.array(probs).reshape(len(kept), len(classes)),
    ), version.spec


def rank_label_issues(
    labels: np.ndarray, probabilities: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """cleanlab's confident learning: the indices of suspected label errors, most suspect
    first, and every example's label quality score."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    ranked = find_label_issues(
        labels=labels, pred_probs=probabilities, return_indices_ranked_by="self_confidence"
    )
    return np.asarray(ranked, dtype=int), get_label_quality_scores(labels, probabilities)


def outlier_scores(labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """cleanlab's OutOfDistribution score of each example from its out-of-sample
    probabilities (low = unlike the rest of its class)."""
    from cleanlab.outlier import OutOfDistribution

    scores = OutOfDistribution().fit_score(pred_probs=probabilities, labels=labels, verbose=False)
    return np.asarray(scores)


def find_label_issues(
    workspace: Workspace,
    theme_name: str,
    params: ResolvedParams | None = None,
    *,
    folds: int = DEFAULT_FOLDS,
    model_spec: str | None = None,
    max_distance: int = DEFAULT_DISTANCE,
    echo: Echo = print,
    log_mlflow: bool = True,
    job_id: str | None = None,
) -> IssuesOutcome:
    import time
    import warnings

    started = time.perf_counter()

    db = open_database(workspace)
    with db.session() as session:
        theme = get_theme(session, theme_name)
        theme_id = theme.id
    warning = None
    if model_spec:
        scored, used = _from_model(workspace, db, theme_name, model_spec, echo)
        source = f"model {used}"
        warning = (
            f"warning: the probabilities come from one model ({used}), only for the "
            f"{len(scored.image_ids)} labeled image(s) it did not train on; K-fold "
            "cross-validation (without --model) scores every labeled image"
        )
        echo(warning)
    else:
        if params is None:
            raise CockpitError("the label-issue finder needs the theme's training parameters")
        scored = _from_crossval(workspace, theme_name, params, folds, echo)
        source = f"{folds}-fold cross-validation"
    if len(scored.image_ids) < 2 or len(set(scored.labels.tolist())) < 2:
        raise CockpitError(
            f"theme {theme_name!r}: too few labeled images of two or more labels to score "
            f"({len(scored.image_ids)}); label more images first"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ranked, quality = rank_label_issues(scored.labels, scored.probabilities)
        ood = outlier_scores(scored.labels, scored.probabilities)
    names = scored.class_names
    issues = [
        Issue(
            "label",
            rank + 1,
            scored.image_ids[i],
            scored.paths[i],
            float(quality[i]),
            given=names[scored.labels[i]],
            suggested=names[int(scored.probabilities[i].argmax())],
            detail=f"p(given) {scored.probabilities[i, scored.labels[i]]:.3f}, "
            f"p(suggested) {scored.probabilities[i].max():.3f}",
        )
        for rank, i in enumerate(ranked)
    ]
    limit = max(1, round(OUTLIER_FRACTION * len(ood)))
    outliers = [
        Issue(
            "outlier",
            rank + 1,
            scored.image_ids[i],
            scored.paths[i],
            float(ood[i]),
            given=names[scored.labels[i]],
            suggested=names[int(scored.probabilities[i].argmax())],
        )
        for rank, i in enumerate(np.argsort(ood, kind="stable")[:limit])
    ]
    duplicates = _duplicates(workspace, db, theme_id, max_distance)
    issues, duplicates, outliers = _with_original_names(db, theme_id, issues, duplicates, outliers)
    outcome = IssuesOutcome(0, source, len(scored.image_ids), issues, duplicates, outliers, warning)
    outcome.run_id = _store(
        db, theme_id, outcome, folds, model_spec, max_distance, job_id,
        time.perf_counter() - started,
    )
    echo(
        f"{len(issues)} suspected label error(s) among {outcome.scored} image(s), "
        f"{len(duplicates)} near-duplicate pair(s), {len(outliers)} likely outlier(s)"
    )
    if log_mlflow:
        outcome.mlflow_run_id = log_assist_run(
            workspace,
            theme_name,
            "label_issues",
            run_name=f"label-issues-{theme_name}",
            params={
                "source": source,
                "folds": folds if not model_spec else "",
                "model": model_spec or "",
                "max_hash_distance": max_distance,
                **(
                    {}
                    if params is None or model_spec
                    else {"model_definition": params.choice.model}
                ),
            },
            counts={
                "scored": outcome.scored,
                "label_issues": len(issues),
                "duplicates": len(duplicates),
                "outliers": len(outliers),
            },
            artifact=outcome.to_dict(),
            tags={"model_version": model_spec} if model_spec else None,
        )
        with db.session() as session:
            session.get(AssistRun, outcome.run_id).mlflow_run_id = outcome.mlflow_run_id
    return outcome


def _with_original_names(db: Database, theme_id: int, *kinds: list[Issue]) -> list[list[Issue]]:
    """The issues with the names their images were imported under."""
    with db.session() as session:
        names = dict(
            session.execute(
                select(TrainData.id, TrainData.original_name).where(TrainData.theme_id == theme_id)
            ).all()
        )
    return [
        [
            replace(
                issue,
                original_name=names.get(issue.image_id),
                other_original_name=names.get(issue.other_id) if issue.other_id else None,
            )
            for issue in issues
        ]
        for issues in kinds
    ]


def _duplicates(
    workspace: Workspace, db: Database, theme_id: int, max_distance: int
) -> list[Issue]:
    with db.session() as session:
        names = dict(session.execute(select(Label.id, Label.label_name)).all())
        rows = session.execute(
            select(TrainData.id, TrainData.image_path, TrainData.split, TrainData.label_id).where(
                TrainData.theme_id == theme_id
            )
        ).all()
    info = {i: (path, split, names.get(label)) for i, path, split, label in rows}
    pairs = near_duplicates(
        perceptual_hashes(workspace.root, [(i, p) for i, p, *_ in rows]), max_distance
    )

    def weight(pair) -> tuple[int, int, int]:
        a, b = info[pair.first], info[pair.second]
        crosses = a[1] != b[1] and a[1] is not None and b[1] is not None
        return (0 if crosses else 1, 0 if a[2] != b[2] else 1, pair.distance)

    found = []
    for rank, pair in enumerate(sorted(pairs, key=weight)):
        (path, split, label), (other, other_split, other_label) = (
            info[pair.first],
            info[pair.second],
        )
        what = (
            "same picture (identical perceptual hash)"
            if pair.distance == 0
            else f"near duplicate ({pair.distance} bits)"
        )
        found.append(
            Issue(
                "duplicate",
                rank + 1,
                pair.first,
                path,
                float(pair.distance),
                given=label,
                suggested=other_label,
                other_id=pair.second,
                other_path=other,
                detail=f"{what}: splits {split or 'none'} / {other_split or 'none'}, labels "
                f"{label or 'unlabeled'} / {other_label or 'unlabeled'}",
            )
        )
    return found


def _store(
    db: Database,
    theme_id: int,
    outcome: IssuesOutcome,
    folds: int,
    model_spec: str | None,
    distance: int,
    job_id: str | None = None,
    seconds: float | None = None,
) -> int:
    with db.session() as session:
        ids = {
            label.label_name: label.id
            for label in session.scalars(select(Label).where(Label.theme_id == theme_id))
        }
        name, _, number = (model_spec or "").partition("/")
        run = AssistRun(
            theme_id=theme_id,
            kind="label_issues",
            model_name=name or None,
            model_version=number or None,
            params_json=json.dumps(
                {"source": outcome.source, "folds": folds, "max_hash_distance": distance}
                | ({"job_id": job_id} if job_id else {})
            ),
            counts_json=json.dumps(
                {
                    "scored": outcome.scored,
                    "label_issues": len(outcome.label_issues),
                    "duplicates": len(outcome.duplicates),
                    "outliers": len(outcome.outliers),
                }
                | ({"seconds": round(seconds, 3)} if seconds is not None else {})
            ),
        )
        session.add(run)
        session.flush()
        for issue in [*outcome.label_issues, *outcome.duplicates, *outcome.outliers]:
            session.add(
                LabelIssue(
                    run_id=run.id,
                    train_data_id=issue.image_id,
                    kind=issue.kind,
                    rank=issue.rank,
                    score=issue.score,
                    given_label_id=ids.get(issue.given) if issue.given else None,
                    suggested_label_id=ids.get(issue.suggested)
                    if issue.suggested and issue.kind != "duplicate"
                    else None,
                    other_train_data_id=issue.other_id,
                    detail=issue.detail,
                )
            )
        return run.id


def latest_issues(db: Database, theme_name: str, kind: str = "label") -> list[dict[str, Any]]:
    """The latest finder run's findings of ``kind``, best first (the review mode's list)."""
    with db.session() as session:
        theme_id = get_theme(session, theme_name).id
        run_id = session.scalar(
            select(AssistRun.id)
            .where(AssistRun.theme_id == theme_id, AssistRun.kind == "label_issues")
            .order_by(AssistRun.id.desc())
            .limit(1)
        )
        if run_id is None:
            return []
        names = dict(session.execute(select(Label.id, Label.label_name)).all())
        rows = session.execute(
            select(LabelIssue, TrainData.image_path, TrainData.label_id, TrainData.original_name)
            .join(TrainData, TrainData.id == LabelIssue.train_data_id)
            .where(LabelIssue.run_id == run_id, LabelIssue.kind == kind)
            .order_by(LabelIssue.rank)
        ).all()
    return [
        {
            "image_id": issue.train_data_id,
            "image_path": path,
            "original_name": original,
            "rank": issue.rank,
            "score": issue.score,
            "given": names.get(issue.given_label_id),
            "current": names.get(current),
            "suggested": names.get(issue.suggested_label_id),
            "other_id": issue.other_train_data_id,
            "detail": issue.detail,
        }
        for issue, path, current, original in rows
    ]
