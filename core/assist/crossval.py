"""Out-of-sample predicted probabilities by K-fold cross-validation: K short trainings
with the theme's configuration (the real ExperimentBuilder: same network, adapter,
transforms and datamodule), each predicting the fold it did not see."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from core.config.params import ResolvedParams
from core.data.snapshot import DataSnapshot, SnapshotItem
from core.errors import CockpitError
from core.training.builder import ExperimentBuilder
from core.workspace import Workspace

Echo = Callable[[str], None]
DEFAULT_FOLDS = 5


@dataclass(frozen=True)
class OutOfSample:
    items: tuple[SnapshotItem, ...]  # every labeled, split image of the theme
    class_names: tuple[str, ...]
    labels: np.ndarray  # (N,) given class index
    probabilities: np.ndarray  # (N, C) predicted by a model that did not train on the image
    fold: np.ndarray  # (N,) which fold held the image out


def check_fold_count(folds: int) -> None:
    if folds < 2:
        raise CockpitError(f"--folds {folds}: give at least 2 (default {DEFAULT_FOLDS})")


def check_folds(snapshot: DataSnapshot, folds: int) -> None:
    check_fold_count(folds)
    counts = Counter(item.class_index for item in snapshot.items)
    name, fewest = min(
        ((snapshot.class_names[i], n) for i, n in counts.items()), key=lambda t: t[1]
    )
    if fewest < folds:
        raise CockpitError(
            f"--folds {folds}: label {name!r} has only {fewest} labeled image(s); use "
            f"--folds {max(2, fewest)} or fewer, or label more images of {name!r}"
        )


def fold_of(snapshot: DataSnapshot, folds: int, seed: int) -> np.ndarray:
    """Stratified fold number of each snapshot item (same seed, same folds)."""
    from sklearn.model_selection import StratifiedKFold

    labels = np.array([item.class_index for item in snapshot.items])
    assignment = np.zeros(len(labels), dtype=int)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (_, held) in enumerate(splitter.split(np.zeros(len(labels)), labels)):
        assignment[held] = k
    return assignment


def _fold_snapshot(snapshot: DataSnapshot, held: np.ndarray) -> DataSnapshot:
    """The other folds train, the held fold is the test split (no valid split: nothing
    is selected on it, every fold trains the configured number of epochs)."""
    items = tuple(
        replace(item, split="test" if held[i] else "train") for i, item in enumerate(snapshot.items)
    )
    return replace(snapshot, items=items)


def _fold_trainer(ctx) -> object:
    """Training's trainer settings (device, precision, determinism) without checkpoints,
    validation or logs: a fold's model lives only to predict its held-out images."""
    import pytorch_lightning as pl

    from core.training.run import trainer_settings

    warnings.filterwarnings("ignore", message=".*no `val_dataloader`.*")
    return pl.Trainer(**trainer_settings(ctx), enable_checkpointing=False, limit_val_batches=0)


def _predict(ctx, loader) -> np.ndarray:
    import torch

    module = ctx.module.eval()
    device = next(module.parameters()).device
    out = []
    with torch.no_grad():
        for images, _targets in loader:
            out.append(torch.softmax(module(images.to(device)).float(), dim=1).cpu().numpy())
    probs = np.concatenate(out) if out else np.zeros((0, len(ctx.class_names)))
    patches = max(1, len(probs) // max(1, len(ctx.snapshot.split("test"))))
    # an image cut into patches: the mean of its patches' probabilities
    return probs.reshape(-1, patches, probs.shape[1]).mean(axis=1)


def out_of_sample(
    workspace: Workspace,
    theme_name: str,
    params: ResolvedParams,
    folds: int = DEFAULT_FOLDS,
    *,
    echo: Echo = print,
) -> OutOfSample:
    from core.training.run import _quiet_libraries

    _quiet_libraries()
    import pytorch_lightning as pl

    builder = ExperimentBuilder(workspace, params, theme_name)
    snapshot = builder.data_snapshot()
    check_folds(snapshot, folds)
    seed = int(params.values["seed"])
    assignment = fold_of(snapshot, folds, seed)
    labels = np.array([item.class_index for item in snapshot.items])
    probabilities = np.zeros((len(labels), len(snapshot.class_names)))
    epochs = int(params.values["max_epochs"])
    for k in range(folds):
        held = assignment == k
        pl.seed_everything(seed + k, workers=True, verbose=False)
        ctx = builder.build(_fold_snapshot(snapshot, held))
        trainer = _fold_trainer(ctx)
        trainer.fit(ctx.module, train_dataloaders=ctx.datamodule.train_dataloader())
        probabilities[held] = _predict(ctx, ctx.datamodule.test_dataloader())
        accuracy = float((probabilities[held].argmax(1) == labels[held]).mean())
        echo(
            f"fold {k + 1}/{folds}: trained on {int((~held).sum())} image(s) for {epochs} "
            f"epoch(s); held-out accuracy {accuracy:.3f} on {int(held.sum())}"
        )
    return OutOfSample(snapshot.items, snapshot.class_names, labels, probabilities, assignment)
