"""The split transforms without a random step skip albumentations' per-item pipeline
calls: the tensors must equal, bit for bit, what the pipeline (Resize, ToTensorV2) makes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.preprocessing import ImageTransform, uint8_steps
from core.training.transforms import SplitTransform


@pytest.mark.parametrize("shape", [(32, 32, 3), (32, 32), (32, 32, 1), (48, 40, 3), (20, 32)])
def test_the_fast_path_equals_the_pipeline(shape):
    rng = np.random.default_rng(0)
    array = rng.integers(0, 256, size=shape, dtype=np.uint8)
    fast = SplitTransform(32, [])
    pipeline = ImageTransform(uint8_steps(32))
    ours, theirs = fast(array.copy()), pipeline(array.copy())
    assert ours.dtype == theirs.dtype == torch.uint8
    assert ours.shape == theirs.shape
    assert torch.equal(ours, theirs)
    batch = torch.stack([fast(array.copy()), fast(array.copy())])  # what the loader stacks
    assert torch.equal(batch[0], theirs)


def test_it_still_pickles_for_loader_workers():
    import pickle

    transform = pickle.loads(pickle.dumps(SplitTransform(32, [])))
    array = np.zeros((40, 40, 3), dtype=np.uint8)
    assert tuple(transform(array).shape) == (3, 32, 32)
