"""Train/valid/test splits: stratified by label, deterministic for a seed, and
stable: images that already have a split keep it; only images without one are assigned.

New images are spread so that each label's final counts come as close as possible to the
ratios, e.g. after adding 10 images to a label whose train share is already too high, they
go mostly to valid and test.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update

from core.data.themes import get_theme
from core.db import Database, TrainData
from core.db.models import SPLITS
from core.errors import CockpitError


@dataclass(frozen=True)
class SplitReport:
    theme: str
    newly_assigned: int
    unlabeled_skipped: int
    counts: dict[str, dict[str, int]]  # label -> split -> images


def check_ratios(ratios: Sequence[float]) -> tuple[float, float, float]:
    if len(ratios) != 3:
        raise CockpitError(f"--ratios: give three numbers train,valid,test; got {list(ratios)}")
    if any(r < 0 or not math.isfinite(r) for r in ratios) or abs(sum(ratios) - 1) > 1e-6:
        raise CockpitError(f"--ratios: must be >= 0 and add up to 1; got {list(ratios)}")
    if ratios[0] <= 0:
        raise CockpitError("--ratios: the train ratio must be above 0")
    return (float(ratios[0]), float(ratios[1]), float(ratios[2]))


def allocate(new: int, existing: Sequence[int], ratios: Sequence[float]) -> list[int]:
    """How many of ``new`` items each split gets so the totals approach ``ratios``.

    Largest-remainder apportionment of the per-split deficits; ties go to the earlier
    split (train, then valid, then test).
    """
    total = new + sum(existing)
    deficits = [max(0.0, r * total - e) for r, e in zip(ratios, existing, strict=True)]
    weights = deficits if sum(deficits) > 0 else list(ratios)
    scale = new / sum(weights)
    quotas = [w * scale for w in weights]
    counts = [math.floor(q) for q in quotas]
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - counts[i]), i))
    for i in order[: new - sum(counts)]:
        counts[i] += 1
    return counts


def assign_splits(
    db: Database, theme_name: str, ratios: Sequence[float] = (0.7, 0.15, 0.15), seed: int = 42
) -> SplitReport:
    ratios = check_ratios(ratios)
    with db.session() as session:
        theme = get_theme(session, theme_name)
        names = {lb.id: lb.label_name for lb in theme.labels}
        rows = session.execute(
            select(TrainData.id, TrainData.label_id, TrainData.split).where(
                TrainData.theme_id == theme.id
            )
        ).all()
        existing: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
        unassigned: dict[int, list[int]] = defaultdict(list)
        unlabeled = 0
        for image_id, label_id, split in rows:
            if label_id is None:
                unlabeled += split is None
            elif split is None:
                unassigned[label_id].append(image_id)
            else:
                existing[label_id][SPLITS.index(split)] += 1
        assigned = 0
        for label_id in sorted(unassigned):
            ids = sorted(unassigned[label_id])
            # one stream per label: adding images to one label never reshuffles another
            random.Random(f"{seed}:{names[label_id]}").shuffle(ids)
            counts = allocate(len(ids), existing[label_id], ratios)
            start = 0
            for split, count in zip(SPLITS, counts, strict=True):
                chunk = ids[start : start + count]
                start += count
                for offset in range(0, len(chunk), 500):
                    session.execute(
                        update(TrainData)
                        .where(TrainData.id.in_(chunk[offset : offset + 500]))
                        .values(split=split)
                    )
                existing[label_id][SPLITS.index(split)] += count
            assigned += len(ids)
        counts_by_label = {
            names[label_id]: dict(zip(SPLITS, existing[label_id], strict=True))
            for label_id in sorted(names, key=lambda i: names[i])
        }
    return SplitReport(theme_name, assigned, unlabeled, counts_by_label)
