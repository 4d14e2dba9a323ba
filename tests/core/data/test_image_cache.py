"""The training image cache: same tensors as without it, never stale, never trusted when
damaged, bounded in memory; its settings are not part of the experiment id."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image

from core.config import parse_overrides, resolve_params
from core.data.image_cache import ImageCache
from core.data.importer import import_images
from core.data.loading import loader_settings
from core.data.themes import create_theme
from core.db import open_database
from core.demo import write_demo_images
from core.preprocessing import ImageTransform, eval_steps
from core.training.builder import ExperimentBuilder

SETTINGS = ["image_size=20", "batch_size=8", "num_workers=0", "max_epochs=1"]


@pytest.fixture
def shapes(workspace, tmp_path):
    write_demo_images(tmp_path / "shapes", per_class=8, size=24, seed=5)
    db = open_database(workspace)
    create_theme(db, "shapes")
    import_images(db, workspace, "shapes", [tmp_path / "shapes"])
    return workspace


def _context(workspace, *extra):
    params = resolve_params(workspace, overrides=parse_overrides([*SETTINGS, *extra]))
    return ExperimentBuilder(workspace, params, "shapes").build()


def _batches(datamodule, split):
    loader = {"train": datamodule.train_dataloader, "valid": datamodule.val_dataloader}[split]()
    return list(loader)


@pytest.mark.parametrize("extra", [[], ["brightness=equalize", "patch_grid=2"]])
def test_cached_batches_equal_uncached_ones_every_epoch(shapes, extra):
    # the workspace's augments.yaml has random train transforms: same seed, same draws
    off = _context(shapes, "cache_preprocessed=false", *extra)
    on = _context(shapes, "cache_preprocessed=true", *extra)
    assert off.experiment_id == on.experiment_id
    for _epoch in range(2):  # the second epoch is served from memory
        for split in ("train", "valid"):
            plain, cached = _batches(off.datamodule, split), _batches(on.datamodule, split)
            assert len(plain) == len(cached) > 0
            for (a, a_labels), (b, b_labels) in zip(plain, cached, strict=True):
                assert a.dtype == b.dtype == torch.uint8
                assert torch.equal(a, b) and torch.equal(a_labels, b_labels)
    assert on.datamodule.cache.hits["memory"] > 0
    assert any((shapes.root / "output" / "cache" / "images").rglob("*.npy"))
    # a new process finds the entries on disk and builds nothing
    again = _context(shapes, "cache_preprocessed=true", *extra)
    _batches(again.datamodule, "valid")
    assert again.datamodule.cache.hits["built"] == 0 and again.datamodule.cache.hits["disk"] > 0


def test_device_normalisation_equals_the_served_models_preprocessing(shapes):
    ctx = _context(shapes, "cache_preprocessed=true")
    dataset = ctx.datamodule.datasets["valid"]
    images, _ = next(iter(ctx.datamodule.val_dataloader()))
    mean, std = ctx.augments.normalize.mean, ctx.augments.normalize.std
    served = ImageTransform(eval_steps(20, mean, std))
    count = len(images)
    expected = torch.stack([served(dataset.load_array(it)) for it in dataset.items[:count]])
    assert ctx.module.affine is not None  # the fast form, exact for these settings
    assert torch.equal(ctx.module.normalise(images), expected)
    assert ctx.module(images).shape == (count, 3)


@pytest.mark.parametrize(
    ("mean", "std"),
    [
        ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
        ((0.5,), (0.5,)),
        ((0.1, 0.7, 0.33), (0.9, 0.01, 0.3)),
    ],
)
def test_the_fast_normalisation_is_the_table_bit_for_bit_or_not_used(mean, std):
    from torch import nn

    from core.preprocessing import normalisation_table
    from core.training.module import ClassificationModule

    table = normalisation_table(mean, std)
    module = ClassificationModule(nn.Identity(), {}, ["a"], table, (mean, std))
    every = torch.arange(256, dtype=torch.uint8).view(1, 1, 16, 16).repeat(2, len(mean), 1, 1)
    looked_up = torch.stack(
        [torch.from_numpy(table)[c][every[:, c].long()] for c in range(len(mean))], dim=1
    )
    assert torch.equal(module.normalise(every), looked_up)
    # a table the two operations cannot reproduce: the lookup, still exact
    skewed = table.copy()
    skewed[0, 7] += 1e-3
    fallback = ClassificationModule(nn.Identity(), {}, ["a"], skewed, (mean, std))
    assert fallback.affine is None
    assert float(fallback.normalise(every)[0, 0, 0, 7]) == float(skewed[0, 7])


def _png(path, value):
    Image.fromarray(np.full((6, 5, 3), value, dtype=np.uint8)).save(path)


def _decode(data: bytes) -> np.ndarray:
    import io

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def test_a_changed_file_is_never_served_stale(tmp_path):
    image = tmp_path / "a.png"
    _png(image, 10)
    cache = ImageCache(tmp_path / "cache", 2**20)
    assert cache.get(image, "v", _decode)[0, 0, 0] == 10
    stat = image.stat()
    _png(image, 200)  # same size, and even the same modification time
    os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    fresh = ImageCache(tmp_path / "cache", 2**20)  # a new run: content hash, not name
    assert fresh.get(image, "v", _decode)[0, 0, 0] == 200
    assert fresh.hits["built"] == 1
    os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert cache.get(image, "v", _decode)[0, 0, 0] == 200  # the same run sees the change
    # other preprocessing, other entry
    assert cache.get(image, "w", lambda data: _decode(data) // 2)[0, 0, 0] == 100


@pytest.mark.parametrize(
    "damage",
    [b"", b"\x93NUMPY garbage", None],
    ids=["empty", "garbage", "wrong dtype"],
)
def test_a_damaged_cache_entry_is_rebuilt_not_trusted(tmp_path, damage):
    image = tmp_path / "a.png"
    _png(image, 77)
    ImageCache(tmp_path / "cache", 0).get(image, "v", _decode)
    [entry] = (tmp_path / "cache").rglob("*.npy")
    if damage is None:
        np.save(entry, np.zeros((6, 5, 3), dtype=np.float64))
    else:
        entry.write_bytes(damage)
    cache = ImageCache(tmp_path / "cache", 0)
    array = cache.get(image, "v", _decode)
    assert array.dtype == np.uint8 and array[0, 0, 0] == 77
    assert cache.hits["rebuilt"] == 1
    assert np.load(entry)[0, 0, 0] == 77  # replaced by a good entry
    assert not [p for p in entry.parent.iterdir() if p.suffix == ".tmp"]


def test_memory_stays_within_its_budget_and_arrays_are_read_only(tmp_path):
    paths = []
    for i in range(10):
        paths.append(tmp_path / f"{i}.png")
        _png(paths[-1], i)
    one = 6 * 5 * 3
    cache = ImageCache(None, 3 * one)  # memory only
    arrays = [cache.get(p, "v", _decode) for p in paths]
    assert cache.held_bytes <= 3 * one
    assert not arrays[0].flags.writeable
    assert cache.get(paths[-1], "v", _decode)[0, 0, 0] == 9 and cache.hits["memory"] == 1


def test_cache_settings_leave_the_experiment_id_alone_compile_does_not(shapes):
    def identity(*extra):
        params = resolve_params(shapes, overrides=parse_overrides(list(extra)))
        return params.experiment_id({"digest": "x"})

    base = identity()
    assert identity("cache_preprocessed=false") == base
    assert identity("cache_memory_mb=16") == base
    assert identity("torch_compile=true") != base


def test_loader_rule():
    assert loader_settings(-1, 10_000, False, served_from_memory=True).num_workers == 0
    assert loader_settings(-1, 100, False).num_workers == 0
    big = loader_settings(-1, 10_000, True)
    assert big.num_workers == max(0, min(8, (os.cpu_count() or 1) - 1))
    assert big.pin_memory and big.persistent_workers == (big.num_workers > 0)
    assert loader_settings(3, 10, False).prefetch_factor == 4
    assert loader_settings(0, 10, False).prefetch_factor is None
