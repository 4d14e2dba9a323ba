"""The synthetic demo dataset: ImageFolder layout, reproducible bytes, visible shapes."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.demo import DEMO_CLASSES, render_shape, render_shape_with_mask, write_demo_images
from core.errors import CockpitError


def file_bytes(paths: list[Path], root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in paths}


def test_layout_and_count(tmp_path: Path):
    calls: list[tuple[int, int]] = []
    paths = write_demo_images(
        tmp_path, per_class=4, size=32, progress=lambda d, t: calls.append((d, t))
    )

    assert len(paths) == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(DEMO_CLASSES)
    for kind in DEMO_CLASSES:
        names = sorted(p.name for p in (tmp_path / kind).iterdir())
        assert names == [f"{kind}_{i:04d}.png" for i in range(4)]
    assert all(p.is_file() for p in paths)
    assert calls == [(i, 12) for i in range(1, 13)]


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path):
    first = write_demo_images(tmp_path / "a", per_class=5, seed=3)
    again = write_demo_images(tmp_path / "b", per_class=5, seed=3)
    other = write_demo_images(tmp_path / "c", per_class=5, seed=4)

    a = file_bytes(first, tmp_path / "a")
    assert a == file_bytes(again, tmp_path / "b")
    c = file_bytes(other, tmp_path / "c")
    assert a.keys() == c.keys()
    assert all(a[name] != c[name] for name in a)


def test_rerun_into_the_same_folder_rewrites_identical_files(tmp_path: Path):
    first = file_bytes(write_demo_images(tmp_path, per_class=3), tmp_path)
    second = file_bytes(write_demo_images(tmp_path, per_class=3), tmp_path)
    assert first == second
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_an_image_does_not_depend_on_how_many_are_asked_for(tmp_path: Path):
    few = write_demo_images(tmp_path / "few", per_class=2, seed=1)
    many = write_demo_images(tmp_path / "many", per_class=6, seed=1)
    assert file_bytes(few, tmp_path / "few").items() <= file_bytes(many, tmp_path / "many").items()


@pytest.mark.parametrize("kind", DEMO_CLASSES)
def test_render_is_deterministic_for_a_generator_state(kind: str):
    one = render_shape(kind, np.random.default_rng(11))
    two = render_shape(kind, np.random.default_rng(11))
    three = render_shape(kind, np.random.default_rng(12))
    assert np.array_equal(np.asarray(one), np.asarray(two))
    assert not np.array_equal(np.asarray(one), np.asarray(three))


@pytest.mark.parametrize("kind", DEMO_CLASSES)
def test_mask_comes_from_the_same_draws_as_the_image(kind: str):
    image, _ = render_shape_with_mask(kind, np.random.default_rng(5))
    assert np.array_equal(
        np.asarray(image), np.asarray(render_shape(kind, np.random.default_rng(5)))
    )


@pytest.mark.parametrize("kind", DEMO_CLASSES)
def test_images_are_rgb_of_the_size_and_the_shape_is_visible(kind: str):
    for seed in range(40):
        image, mask = render_shape_with_mask(kind, np.random.default_rng(seed), size=40)
        assert image.mode == "RGB"
        assert image.size == (40, 40)
        assert mask.shape == (40, 40) and mask.dtype == bool

        pixels = np.asarray(image, dtype=np.float64)
        assert pixels.std() > 10.0, "blank image"
        assert 0.10 <= mask.mean() <= 0.80

        inside = pixels[mask].mean(axis=0)
        outside = pixels[~mask].mean(axis=0)
        assert np.linalg.norm(inside - outside) > 60.0, "shape hard to tell from background"


def test_written_files_decode_as_rgb_pngs(tmp_path: Path):
    for path in write_demo_images(tmp_path, per_class=2, size=24):
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.mode == "RGB"
            assert image.size == (24, 24)


def test_three_hundred_images_are_quick(tmp_path: Path):
    started = time.perf_counter()
    paths = write_demo_images(tmp_path, per_class=100, size=48)
    assert len(paths) == 300
    assert time.perf_counter() - started < 5.0


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="hexagon"):
        render_shape("hexagon", np.random.default_rng(0))


@pytest.mark.parametrize(("field", "value"), [("per_class", 0), ("size", 4), ("per_class", 2.5)])
def test_bad_arguments_are_cockpit_errors(tmp_path: Path, field: str, value):
    with pytest.raises(CockpitError, match=field):
        write_demo_images(tmp_path, **{field: value})


def test_root_that_is_a_file_is_a_cockpit_error(tmp_path: Path):
    root = tmp_path / "demo"
    root.write_text("not a folder")
    with pytest.raises(CockpitError, match="demo"):
        write_demo_images(root, per_class=1)
