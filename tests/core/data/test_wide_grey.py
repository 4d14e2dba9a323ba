"""16-bit grey images (microscopy, medical and scientific cameras) are scaled from their
full range to 8 bits, not clipped white: in training's decoding, in a served model's, and
in the finder's perceptual hash; 32-bit and float grey are refused with one line."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.assist.duplicates import near_duplicates, perceptual_hashes
from core.data.dataset import SnapshotImageDataset
from core.data.snapshot import SnapshotItem
from core.preprocessing import PreprocessConfig, load_image_array


def _wide(seed: int, low: int = 3000, high: int = 52000) -> np.ndarray:
    """A 16-bit grey picture: a bright disc on a gradient, most values above 255."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:48, 0:48]
    cy, cx = rng.integers(12, 36, 2)
    picture = low + (high - low) * (x / 47.0) * 0.5
    picture[(y - cy) ** 2 + (x - cx) ** 2 < 100] = high
    return picture.astype(np.uint16)


def _save(array: np.ndarray, path: Path, fmt: str = "PNG") -> Path:
    Image.fromarray(array).save(path, format=fmt)
    return path


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_a_16_bit_grey_file_is_scaled_from_its_full_range_not_clipped(tmp_path, fmt, mode):
    wide = _wide(1)
    path = _save(wide, tmp_path / f"wide.{fmt.lower()}", fmt)
    with Image.open(path) as image:
        assert image.mode.startswith("I;16")
        array = load_image_array(image, mode)
    assert array.dtype == np.uint8 and array.shape == (48, 48, 3 if mode == "RGB" else 1)
    expected = np.rint(wide.astype(np.float64) / 257).astype(np.uint8)
    for channel in range(array.shape[2]):
        assert np.array_equal(array[..., channel], expected)
    assert array.min() < 50 and array.max() > 150  # not a white (clipped) image


def test_the_training_dataset_decodes_a_16_bit_png_the_same_way(tmp_path):
    wide = _wide(2)
    _save(wide, tmp_path / "a.png")
    dataset = SnapshotImageDataset(
        tmp_path, [SnapshotItem(1, "a.png", 0, "train")], lambda a: a, PreprocessConfig()
    )
    array = dataset.load_array(dataset.items[0])
    assert np.array_equal(array[..., 0], np.rint(wide / 257).astype(np.uint8))


@pytest.mark.parametrize("array", [np.zeros((8, 8), np.int32), np.zeros((8, 8), np.float32)])
def test_32_bit_and_float_grey_are_refused_with_what_to_do(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="TIFF")
    with Image.open(buffer) as image, pytest.raises(ValueError, match="8 or 16 bits"):
        load_image_array(image, "RGB")


def test_the_cache_of_decoded_images_is_keyed_by_the_decoding_rule():
    import core.preprocessing as preprocessing

    before = PreprocessConfig().key
    original = preprocessing.DECODING
    try:
        preprocessing.DECODING = original + 1
        assert PreprocessConfig().key != before
    finally:
        preprocessing.DECODING = original


def test_distinct_16_bit_pictures_are_not_duplicates_and_a_copy_is(tmp_path):
    """Clipped, every 16-bit picture was white, and all of them one another's duplicate."""
    files = [_save(_wide(seed), tmp_path / f"{seed}.png") for seed in range(6)]
    copy = tmp_path / "copy.png"
    Image.fromarray(_wide(0)).resize((40, 40)).save(copy)  # a smaller copy of 0.png
    images = [(i, p.name) for i, p in enumerate([*files, copy])]
    found = perceptual_hashes(tmp_path, images)
    assert len(set(found.hashes.values())) >= 6
    pairs = {(p.first, p.second) for p in near_duplicates(found, 4)}
    assert (0, 6) in pairs
    assert not {pair for pair in pairs if 6 not in pair}
