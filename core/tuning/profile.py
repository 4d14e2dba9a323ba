"""The inputs of the search selection, measured: the network's parameter count (built on
PyTorch's meta device: no memory, no weights), the theme's labeled train images and the
search space (core.tuning.selection)."""

from __future__ import annotations

from core.config.optuna_params import OptunaParams
from core.config.params import ResolvedParams
from core.data.snapshot import DEFAULT_RATIOS, DataSnapshot
from core.data.themes import label_split_counts
from core.db import open_database
from core.tuning.selection import Profile
from core.workspace import Workspace


def count_parameters(workspace: Workspace, params: ResolvedParams, num_classes: int) -> int:
    """Trainable and frozen parameters of the network these parameters build."""
    from core.training.footprint import build_meta_network

    net, _adapter = build_meta_network(workspace, params, num_classes)
    return int(sum(p.numel() for p in net.parameters()))


def study_profile(
    workspace: Workspace, config: OptunaParams, base: ResolvedParams, snapshot: DataSnapshot
) -> Profile:
    """The profile of a study on this theme: a network that cannot be built is 'unknown'
    (the selection assumes a moderate model and says so) rather than an error here: the
    trials' own validation reports it."""
    try:
        parameters: int | None = count_parameters(
            workspace, base, len(snapshot.class_names)
        )
    except Exception:  # reported by the trial that builds it
        parameters = None
    return Profile.of(
        config,
        parameters=parameters,
        train_images=train_images(workspace, base, snapshot.theme_name),
        max_epochs=int(base.values.get("max_epochs") or 10),
    )


def train_images(workspace: Workspace, base: ResolvedParams, theme: str) -> int:
    """The theme's labeled train images, counting the share of not-yet-split labeled
    images that the split ratios will put in train."""
    counts = label_split_counts(open_database(workspace), theme)
    ratios = base.values.get("split_ratios") or DEFAULT_RATIOS
    train_share = float(ratios[0]) / float(sum(ratios))
    split = sum(row["train"] for row in counts.values())
    unsplit = sum(row["none"] for row in counts.values())
    return split + round(unsplit * train_share)
