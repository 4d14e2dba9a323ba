"""Accepting suggestions: the suggested label becomes the image's label with
``labeled_by = "model:NAME/VERSION"``, in one transaction recorded as an
``accept`` run so that it can be undone later, from another process too."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import select, update

from core.assist.suggest import Suggestion, suggestions
from core.data.themes import get_theme
from core.db import AssistRun, Database, Label, TrainData
from core.errors import CockpitError
from core.workspace import Workspace

MODEL_PREFIX = "model:"
CHUNK = 500


def model_labeler(spec: str) -> str:
    """The ``labeled_by`` of a label accepted from model version ``NAME/VERSION``."""
    return f"{MODEL_PREFIX}{spec}"


@dataclass
class AcceptOutcome:
    model: str | None
    chosen: list[Suggestion] = field(default_factory=list)
    batch_id: int | None = None  # None: a dry run (nothing changed) or nothing to accept

    @property
    def count(self) -> int:
        return len(self.chosen)

    def to_dict(self) -> dict:
        by_label: dict[str, int] = {}
        for s in self.chosen:
            by_label[s.label] = by_label.get(s.label, 0) + 1
        return {
            "model": self.model,
            "accepted": self.count,
            "by_label": dict(sorted(by_label.items())),
            "batch": self.batch_id,
        }


def check_probability(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise CockpitError(f"--min-prob {value}: give a probability between 0 and 1, e.g. 0.9")
    return value


def choose(
    found: list[Suggestion],
    min_prob: float = 0.0,
    image_ids: list[int] | None = None,
) -> list[Suggestion]:
    """Suggestions to accept: of unlabeled images with probability >= ``min_prob``, or of
    exactly ``image_ids`` (chosen by hand: a labeled image takes the suggestion too)."""
    if image_ids is not None:
        wanted = set(image_ids)
        return [s for s in found if s.image_id in wanted and s.given_label != s.label]
    return [s for s in found if s.given_label is None and s.probability >= min_prob]


def accept_suggestions(
    db: Database,
    theme_name: str,
    *,
    min_prob: float = 0.0,
    model_spec: str | None = None,
    image_ids: list[int] | None = None,
    dry_run: bool = False,
    workspace: Workspace | None = None,
) -> AcceptOutcome:
    """Set the suggested labels (see ``choose``); a dry run only counts them.
    ``workspace``: look up a registered model to name in the advice when there are no
    suggestions yet."""
    check_probability(min_prob)
    found = suggestions(db, theme_name, model_spec)
    if not found:
        which = f"of {model_spec} " if model_spec else ""
        raise CockpitError(
            f"theme {theme_name!r} has no suggestions {which}yet; {_advice(workspace, theme_name)}"
        )
    model = found[0].model
    outcome = AcceptOutcome(model, choose(found, min_prob, image_ids))
    if dry_run or not outcome.chosen:
        return outcome
    labeler = model_labeler(model)
    with db.session() as session:
        theme = get_theme(session, theme_name)
        ids = {label.label_name: label.id for label in theme.labels}
        previous = {}
        chosen_ids = [s.image_id for s in outcome.chosen]
        for start in range(0, len(chosen_ids), CHUNK):
            rows = session.execute(
                select(TrainData.id, TrainData.label_id, TrainData.labeled_by).where(
                    TrainData.id.in_(chosen_ids[start : start + CHUNK])
                )
            ).all()
            previous.update({i: [label, by] for i, label, by in rows})
        by_label: dict[int, list[int]] = {}
        for s in outcome.chosen:
            by_label.setdefault(ids[s.label], []).append(s.image_id)
        for label_id, image_list in by_label.items():
            for start in range(0, len(image_list), CHUNK):
                session.execute(
                    update(TrainData)
                    .where(
                        TrainData.theme_id == theme.id,
                        TrainData.id.in_(image_list[start : start + CHUNK]),
                    )
                    .values(label_id=label_id, labeled_by=labeler)
                )
        name, _, number = model.partition("/")
        batch = AssistRun(
            theme_id=theme.id,
            kind="accept",
            model_name=name,
            model_version=number,
            params_json=json.dumps({"min_prob": min_prob, "images": image_ids is not None}),
            counts_json=json.dumps({"accepted": outcome.count}),
            payload_json=json.dumps(
                {
                    "previous": {str(k): v for k, v in previous.items()},
                    "set": {str(s.image_id): ids[s.label] for s in outcome.chosen},
                    "labeled_by": labeler,
                }
            ),
        )
        session.add(batch)
        session.flush()
        outcome.batch_id = batch.id
    return outcome


def _advice(workspace: Workspace | None, theme: str) -> str:
    """The command that makes suggestions, naming a registered model that exists."""
    names: list[str] = []
    if workspace is not None:
        from core.models.catalog import list_models

        try:
            names = [m.name for m in list_models(workspace) if m.versions]
        except CockpitError:
            names = []
    own = f"{theme}_model"
    if workspace is not None and not names:
        return f"train a model first: `cockpit train --theme {theme}`"
    model = own if own in names or not names else names[0]
    return f"run `cockpit suggest --theme {theme} --model {model}` first"


@dataclass
class UndoOutcome:
    batch_id: int
    restored: int
    kept: int  # relabeled since the acceptance: left as they are

    def to_dict(self) -> dict:
        return {"batch": self.batch_id, "restored": self.restored, "kept": self.kept}


def undo_accept(db: Database, theme_name: str, batch_id: int | None = None) -> UndoOutcome:
    """Put back the labels an acceptance replaced (default: the theme's latest one not yet
    undone). Images labeled again since then keep their newer label."""
    with db.session() as session:
        theme = get_theme(session, theme_name)
        query = select(AssistRun).where(
            AssistRun.theme_id == theme.id, AssistRun.kind == "accept", AssistRun.undone.is_(False)
        )
        if batch_id is not None:
            query = query.where(AssistRun.id == batch_id)
        batch = session.scalars(query.order_by(AssistRun.id.desc()).limit(1)).first()
        if batch is None:
            what = f"acceptance {batch_id}" if batch_id is not None else "accepted suggestions"
            raise CockpitError(f"theme {theme_name!r} has no {what} to undo")
        payload = json.loads(batch.payload_json)
        labeler = payload["labeled_by"]
        restored = kept = 0
        for key, (label_id, labeled_by) in payload["previous"].items():
            image = session.get(TrainData, int(key))
            if image is None:
                continue
            if image.label_id != payload["set"][key] or image.labeled_by != labeler:
                kept += 1
                continue
            if label_id is not None and session.get(Label, label_id) is None:
                label_id, labeled_by = None, None  # that label was deleted since
            image.label_id = label_id
            image.labeled_by = labeled_by
            restored += 1
        batch.undone = True
        return UndoOutcome(batch.id, restored, kept)
