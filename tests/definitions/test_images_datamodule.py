"""The `images` dataset definition serves a real imported theme in batches."""

import numpy as np
import torch

from core.config import parse_overrides, resolve_params
from core.data.importer import import_images
from core.data.snapshot import load_snapshot
from core.data.splits import assign_splits
from core.data.themes import create_theme
from core.db import open_database
from core.registry import Registry
from tests.imaging import make_imagefolder


def to_tensor(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array.copy()).permute(2, 0, 1).float() / 255


def test_datamodule_batches_images_with_class_indices(workspace, tmp_path):
    db = open_database(workspace)
    create_theme(db, "pets")
    make_imagefolder(tmp_path / "src", {"cat": 10, "dog": 10})
    import_images(db, workspace, "pets", [tmp_path / "src"])
    assign_splits(db, "pets")
    snapshot = load_snapshot(db, "pets")
    params = resolve_params(workspace, overrides=parse_overrides(["batch_size=4", "image_mode=L"]))
    registry = Registry.from_workspace(workspace)
    module_cls = registry.load_object(registry.dataset("images").datamodule, "datamodule")
    module = module_cls(
        params.values,
        workspace_root=workspace.root,
        snapshot=snapshot,
        transforms={"train": to_tensor, "valid": to_tensor, "test": to_tensor},
    )
    assert module.num_classes == 2
    images, labels = next(iter(module.train_dataloader()))
    assert images.shape == (4, 1, 16, 16)
    assert set(labels.tolist()) <= {0, 1}
    assert sum(len(b[1]) for b in module.val_dataloader()) == len(snapshot.split("valid"))
