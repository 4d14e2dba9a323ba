"""Plain PNGs are decoded by OpenCV instead of Pillow: the arrays must be Pillow's, bit for
bit, for every kind of PNG a user may have; whatever the fast path does not take goes to
Pillow, and a broken file is reported by name as before."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from core.data.dataset import SnapshotImageDataset
from core.data.png_decode import decode_plain_png, plain_png
from core.data.snapshot import SnapshotItem
from core.errors import CockpitError
from core.preprocessing import PreprocessConfig, load_image_array


def _png(image: Image.Image, **save: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", **save)
    return out.getvalue()


def _with_chunk(data: bytes, kind: bytes, payload: bytes) -> bytes:
    """``data`` with an ancillary chunk inserted right after IHDR."""
    chunk = len(payload).to_bytes(4, "big") + kind + payload
    chunk += zlib.crc32(kind + payload).to_bytes(4, "big")
    return data[:33] + chunk + data[33:]


def _pillow(data: bytes, mode: str) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return load_image_array(image, mode)


def _kinds() -> dict[str, tuple[bytes, bool]]:
    """name -> (PNG bytes, whether the fast path takes it in RGB mode)"""
    rng = np.random.default_rng(7)
    rgb = Image.fromarray(rng.integers(0, 256, (23, 31, 3), dtype=np.uint8), "RGB")
    rgba = Image.fromarray(rng.integers(0, 256, (23, 31, 4), dtype=np.uint8), "RGBA")
    grey = Image.fromarray(rng.integers(0, 256, (23, 31), dtype=np.uint8), "L")
    wide = rng.integers(0, 65535, (23, 31), dtype=np.uint16)
    text = PngImagePlugin.PngInfo()
    text.add_text("comment", "hello")
    plain = _png(rgb)
    return {
        "rgb": (plain, True),
        "rgb, compressed hard": (_png(rgb, compress_level=9), True),
        "rgb with text and dpi": (_png(rgb, pnginfo=text, dpi=(300, 300)), True),
        "rgba": (_png(rgba), True),
        "grey": (_png(grey), True),
        "grey + alpha": (_png(Image.merge("LA", [grey, grey])), False),
        "palette": (_png(rgb.convert("P")), False),
        "palette with transparency": (_png(rgb.convert("P"), transparency=0), False),
        "rgb with transparency": (_png(rgb, transparency=(1, 2, 3)), False),
        "16-bit grey": (_png(Image.fromarray(wide)), False),
        "1-bit": (_png(grey.convert("1")), False),
        "rgb with gamma": (_with_chunk(plain, b"gAMA", (45455).to_bytes(4, "big")), False),
        "rgb with sRGB": (_with_chunk(plain, b"sRGB", b"\x00"), False),
    }


@pytest.mark.parametrize("mode", ["RGB", "L"])
@pytest.mark.parametrize("name", list(_kinds()))
def test_every_kind_of_png_decodes_as_pillow_decodes_it(name, mode):
    data, fast_in_rgb = _kinds()[name]
    expected = _pillow(data, mode)
    fast = decode_plain_png(data, mode)
    if mode == "RGB":
        assert (fast is not None) == fast_in_rgb, name  # the fast path really runs
    if fast is not None:
        assert fast.dtype == expected.dtype == np.uint8
        assert fast.shape == expected.shape
        assert np.array_equal(fast, expected), name


def test_only_a_grey_png_takes_the_fast_path_in_grey_mode():
    kinds = _kinds()
    assert plain_png(kinds["grey"][0], "L") is not None
    assert plain_png(kinds["rgb"][0], "L") is None  # Pillow's luma rounding: Pillow does it
    assert plain_png(kinds["rgb"][0], "CMYK") is None


def test_a_jpeg_or_a_broken_png_goes_to_pillow(tmp_path: Path):
    rgb = Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8))
    jpeg = io.BytesIO()
    rgb.save(jpeg, format="JPEG")
    assert decode_plain_png(jpeg.getvalue(), "RGB") is None
    data = _png(rgb)
    assert decode_plain_png(data[:40], "RGB") is None  # cut short inside the image data
    assert decode_plain_png(data[:20], "RGB") is None


def test_the_dataset_decodes_files_as_pillow_does_and_names_a_broken_one(tmp_path: Path):
    items = []
    for i, (data, _fast) in enumerate(_kinds().values()):
        (tmp_path / f"{i}.png").write_bytes(data)
        items.append(SnapshotItem(i + 1, f"{i}.png", 0, "train"))
    (tmp_path / "broken.png").write_bytes(_png(Image.new("RGB", (8, 8)))[:45])
    items.append(SnapshotItem(99, "broken.png", 0, "train"))
    dataset = SnapshotImageDataset(tmp_path, items, lambda a: a, PreprocessConfig())
    for item in items[:-1]:
        expected = _pillow((tmp_path / item.image_path).read_bytes(), "RGB")
        assert np.array_equal(dataset.load_array(item), expected), item.image_path
    with pytest.raises(CockpitError, match=r"broken\.png .*re-import it"):
        dataset.load_array(items[-1])
