"""core.data.image_files: discovering candidate files and validating images with Pillow."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from core.data import image_files
from core.data.image_files import (
    DEFAULT_MAX_PIXELS,
    SUPPORTED_EXTENSIONS,
    SUPPORTED_MODES,
    ImageCandidate,
    Rejected,
    ValidImage,
    discover,
    inspect_image,
)

needs_symlinks = pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")


def image_bytes(fmt: str = "PNG", mode: str = "RGB", size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color=None if mode in {"F", "I;16"} else 1).save(buffer, fmt)
    return buffer.getvalue()


def write_image(path: Path, fmt: str = "PNG", mode: str = "RGB", size=(8, 8)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image_bytes(fmt, mode, size))
    return path


def real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def sources(items) -> list[Path]:
    return [item.source for item in items]


# ---------------------------------------------------------------------------------------------
# constants


def test_constants():
    assert {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"} == set(
        SUPPORTED_EXTENSIONS
    )
    assert all(ext == ext.lower() and ext.startswith(".") for ext in SUPPORTED_EXTENSIONS)
    assert {"1", "L", "LA", "P", "PA", "RGB", "RGBA", "I;16", "CMYK"} <= SUPPORTED_MODES
    assert not {"F", "I", "YCbCr", "LAB"} & SUPPORTED_MODES
    assert DEFAULT_MAX_PIXELS == Image.MAX_IMAGE_PIXELS


# ---------------------------------------------------------------------------------------------
# inspect_image


@pytest.mark.parametrize(
    ("fmt", "name", "extension", "mode"),
    [
        ("PNG", "a.png", ".png", "RGB"),
        ("JPEG", "a.jpeg", ".jpg", "RGB"),
        ("BMP", "a.bmp", ".bmp", "RGB"),
        ("GIF", "a.gif", ".gif", "P"),
        ("TIFF", "a.tiff", ".tif", "RGB"),
        ("WEBP", "a.webp", ".webp", "RGB"),
        ("PNG", "grey16.png", ".png", "I;16"),
        ("JPEG", "cmyk.jpg", ".jpg", "CMYK"),
        ("PNG", "alpha.png", ".png", "RGBA"),
    ],
)
def test_valid_images(tmp_path, fmt, name, extension, mode):
    path = write_image(tmp_path / name, fmt, mode if mode != "P" else "RGB", size=(16, 8))
    result = inspect_image(path)
    assert isinstance(result, ValidImage), result
    assert result.source == path
    assert (result.width, result.height) == (16, 8)
    assert result.mode == mode
    assert result.extension == extension
    assert result.size_bytes == path.stat().st_size


def test_sha256_is_that_of_the_file_bytes(tmp_path):
    path = write_image(tmp_path / "a.png")
    result = inspect_image(path)
    assert isinstance(result, ValidImage)
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_extension_comes_from_the_decoded_format_not_the_name(tmp_path):
    png_named_jpg = write_image(tmp_path / "x.jpg", "PNG")
    jpeg_named_png = write_image(tmp_path / "y.PNG", "JPEG")
    assert inspect_image(png_named_jpg).extension == ".png"
    assert inspect_image(jpeg_named_png).extension == ".jpg"


def test_animated_gif_is_accepted_with_the_first_frame_size(tmp_path):
    frames = [Image.new("RGB", (12, 10), color) for color in ("red", "green", "blue")]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    result = inspect_image(path)
    assert isinstance(result, ValidImage), result
    assert (result.width, result.height, result.extension) == (12, 10, ".gif")


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    assert inspect_image(path) == Rejected(path, "empty file (0 bytes)")


def test_text_file_renamed_png(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("hello, this is not an image\n")
    assert inspect_image(path) == Rejected(path, "not an image (cannot identify image file)")


def test_format_outside_the_supported_ones_is_not_an_image(tmp_path):
    path = write_image(tmp_path / "icon.png", "ICO")
    assert inspect_image(path).reason == "not an image (cannot identify image file)"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_image(tmp_path, fmt):
    data = image_bytes(fmt, size=(64, 64))
    path = tmp_path / "cut.img"
    path.write_bytes(data[: len(data) // 2])
    result = inspect_image(path)
    assert isinstance(result, Rejected)
    assert result.reason.startswith("truncated or corrupt image: ")
    assert "\n" not in result.reason


def test_truncated_image_is_rejected_even_when_pillow_is_set_lenient(tmp_path, monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = image_bytes("PNG", size=(64, 64))
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])
    assert isinstance(inspect_image(path), Rejected)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # the caller's setting is put back


def test_global_pillow_flag_is_restored_after_concurrent_calls(tmp_path, monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    path = write_image(tmp_path / "a.png", size=(64, 64))
    threads = [
        threading.Thread(target=lambda: [inspect_image(path) for _ in range(20)]) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True


def test_decompression_bomb_is_rejected_from_the_header(tmp_path, monkeypatch):
    path = write_image(tmp_path / "big.png", size=(16, 16))
    loaded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loaded.append(self))
    assert inspect_image(path, max_pixels=50) == Rejected(
        path, "image too large: 16x16 pixels exceeds the limit of 50"
    )
    assert loaded == []  # rejected before any pixel was decoded


def test_pillow_own_bomb_error_is_a_rejection(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)  # Pillow raises above twice this
    path = write_image(tmp_path / "big.png", size=(16, 16))
    result = inspect_image(path, max_pixels=10**9)
    assert isinstance(result, Rejected)
    assert result.reason.startswith("image too large: ")


def test_image_at_the_limit_is_accepted(tmp_path):
    path = write_image(tmp_path / "a.png", size=(16, 16))
    assert isinstance(inspect_image(path, max_pixels=256), ValidImage)


@pytest.mark.parametrize(("mode", "fmt"), [("F", "TIFF"), ("I", "TIFF"), ("YCbCr", "TIFF")])
def test_unsupported_mode(tmp_path, mode, fmt):
    path = write_image(tmp_path / "odd.tif", fmt, mode)
    assert inspect_image(path) == Rejected(
        path, f"unsupported pixel mode {mode!r}: save it as 8-bit or 16-bit grey, RGB or RGBA"
    )


def test_missing_file_and_folder_are_rejected(tmp_path):
    assert inspect_image(tmp_path / "gone.png") == Rejected(tmp_path / "gone.png", "not found")
    folder = tmp_path / "dir.png"
    folder.mkdir()
    assert inspect_image(folder).reason == "not a regular file"


def test_multi_picture_jpeg_is_stored_as_jpg(tmp_path):
    path = tmp_path / "camera.jpg"
    Image.new("RGB", (8, 8)).save(
        path, "MPO", save_all=True, append_images=[Image.new("RGB", (8, 8))]
    )
    with Image.open(path) as image:
        assert image.format == "MPO"
    result = inspect_image(path)
    assert isinstance(result, ValidImage), result
    assert result.extension == ".jpg"


def test_permission_denied_is_a_rejection(tmp_path, monkeypatch):
    path = write_image(tmp_path / "secret.png")

    def refuse(name, flags):
        raise PermissionError(13, "Permission denied", name)

    monkeypatch.setattr(image_files, "_open_nonblocking", refuse)
    assert inspect_image(path) == Rejected(path, "cannot read file (permission denied)")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_does_not_hang(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    assert inspect_image(fifo).reason == "not a regular file"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    path = write_image(tmp_path / "secret.png")
    path.chmod(0)
    try:
        assert inspect_image(path) == Rejected(path, "cannot read file (permission denied)")
    finally:
        path.chmod(0o644)


# ---------------------------------------------------------------------------------------------
# discover


def test_discover_files_and_nested_folders(tmp_path):
    single = write_image(tmp_path / "single.png")
    folder = tmp_path / "photos"
    nested = [
        write_image(folder / "b.jpg", "JPEG"),
        write_image(folder / "a.png"),
        write_image(folder / "deeper" / "z" / "c.BMP", "BMP"),
    ]
    candidates, rejected = discover([single, str(folder)])
    assert rejected == []
    assert candidates == [
        ImageCandidate(real(single), None),
        ImageCandidate(real(nested[1]), None),
        ImageCandidate(real(nested[0]), None),
        ImageCandidate(real(nested[2]), None),
    ]
    assert all(c.source.is_absolute() for c in candidates)


def test_discover_order_is_stable(tmp_path):
    for name in ["c.png", "a.png", "b/x.png", "b/a.png", "B.png"]:
        write_image(tmp_path / "f" / name)
    first, _ = discover([tmp_path / "f"], imagefolder=False)
    second, _ = discover([tmp_path / "f"], imagefolder=False)
    assert first == second
    names = [c.source.relative_to(real(tmp_path / "f")).as_posix() for c in first]
    assert names == ["B.png", "a.png", "b/a.png", "b/x.png", "c.png"]


def test_hidden_files_and_folders_are_skipped_silently(tmp_path):
    folder = tmp_path / "data"
    visible = write_image(folder / "ok.png")
    write_image(folder / ".hidden.png")
    write_image(folder / ".cache" / "thumb.png")
    candidates, rejected = discover([folder])
    assert sources(candidates) == [real(visible)]
    assert rejected == []


def test_unsupported_extensions_are_counted_as_rejected(tmp_path):
    folder = tmp_path / "data"
    image = write_image(folder / "ok.png")
    (folder / "notes.txt").write_text("x")
    (folder / "README").write_text("x")
    candidates, rejected = discover([folder])
    assert sources(candidates) == [real(image)]
    assert sorted(r.reason for r in rejected) == [
        "not a supported image extension (.txt)",
        "not a supported image extension (none)",
    ]


def test_file_given_directly_with_unsupported_extension(tmp_path):
    path = tmp_path / "notes.TXT"
    path.write_text("x")
    assert discover([path]) == ([], [Rejected(path, "not a supported image extension (.txt)")])


def test_extension_match_is_case_insensitive(tmp_path):
    path = write_image(tmp_path / "SHOUT.JPEG", "JPEG")
    assert sources(discover([path])[0]) == [real(path)]


def test_missing_path(tmp_path):
    missing = tmp_path / "nope"
    assert discover([missing]) == ([], [Rejected(missing, "not found")])


def test_same_file_given_twice_is_returned_once(tmp_path):
    path = write_image(tmp_path / "a.png")
    candidates, rejected = discover([path, str(path), tmp_path, tmp_path / "." / "a.png"])
    assert candidates == [ImageCandidate(real(path), None)]
    assert rejected == []


def test_imagefolder_layout_is_detected(tmp_path):
    root = tmp_path / "pets"
    cat = write_image(root / "cat" / "a.png")
    dog = write_image(root / "dog" / "b.png")
    deep = write_image(root / "dog" / "puppies" / "c.png")
    (root / "README.md").write_text("a text file directly inside does not count")
    candidates, _ = discover([root])
    assert candidates == [
        ImageCandidate(real(cat), "cat"),
        ImageCandidate(real(dog), "dog"),
        ImageCandidate(real(deep), "dog"),
    ]


def test_imagefolder_forced_off(tmp_path):
    root = tmp_path / "pets"
    write_image(root / "cat" / "a.png")
    write_image(root / "dog" / "b.png")
    candidates, _ = discover([root], imagefolder=False)
    assert [c.label for c in candidates] == [None, None]


def test_folder_with_images_directly_inside_is_not_an_imagefolder(tmp_path):
    root = tmp_path / "mixed"
    write_image(root / "top.png")
    write_image(root / "cat" / "a.png")
    assert [c.label for c in discover([root])[0]] == [None, None]


def test_imagefolder_forced_on(tmp_path):
    root = tmp_path / "mixed"
    write_image(root / "top.png")
    write_image(root / "cat" / "a.png")
    candidates, _ = discover([root], imagefolder=True)
    assert {c.source.name: c.label for c in candidates} == {"top.png": None, "a.png": "cat"}


def test_files_given_directly_get_no_label(tmp_path):
    path = write_image(tmp_path / "cat" / "a.png")
    assert discover([path], imagefolder=True)[0] == [ImageCandidate(real(path), None)]


@needs_symlinks
def test_symlink_to_file_outside_the_folder_is_rejected(tmp_path):
    outside = write_image(tmp_path / "elsewhere" / "secret.png")
    folder = tmp_path / "data"
    inside = write_image(folder / "ok.png")
    link = folder / "sneaky.png"
    link.symlink_to(outside)
    candidates, rejected = discover([folder])
    assert sources(candidates) == [real(inside)]
    assert rejected == [
        Rejected(real(folder) / "sneaky.png", "symlink points outside the imported folder")
    ]


@needs_symlinks
def test_symlink_to_folder_outside_is_rejected_without_walking_it(tmp_path):
    write_image(tmp_path / "elsewhere" / "secret.png")
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "more").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    candidates, rejected = discover([folder])
    assert candidates == []
    assert [r.reason for r in rejected] == ["symlink points outside the imported folder"]


@needs_symlinks
def test_symlink_inside_the_folder_is_followed_once(tmp_path):
    folder = tmp_path / "data"
    image = write_image(folder / "cat" / "a.png")
    (folder / "alias.png").symlink_to(image)
    (folder / "kitty").symlink_to(folder / "cat", target_is_directory=True)
    candidates, rejected = discover([folder])
    assert candidates == [ImageCandidate(real(image), "cat")]
    assert rejected == []


@needs_symlinks
def test_symlinked_folder_into_a_hidden_folder_is_walked(tmp_path):
    folder = tmp_path / "data"
    image = write_image(folder / ".store" / "x.png")
    (folder / "cat").symlink_to(folder / ".store", target_is_directory=True)
    assert discover([folder])[0] == [ImageCandidate(real(image), "cat")]


@needs_symlinks
def test_symlink_loop_does_not_hang(tmp_path):
    folder = tmp_path / "data"
    image = write_image(folder / "sub" / "a.png")
    (folder / "sub" / "loop").symlink_to(folder, target_is_directory=True)
    (folder / "self").symlink_to(folder / "self")  # a link to itself
    (folder / "ping.png").symlink_to(folder / "pong.png")
    (folder / "pong.png").symlink_to(folder / "ping.png")
    candidates, rejected = discover([folder])
    assert sources(candidates) == [real(image)]
    assert all(r.reason != "symlink points outside the imported folder" for r in rejected)


@needs_symlinks
def test_broken_symlink_is_rejected(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "gone.png").symlink_to(folder / "missing.png")
    assert discover([folder]) == (
        [],
        [Rejected(real(folder) / "gone.png", "not found (broken symlink)")],
    )


@needs_symlinks
def test_symlink_given_directly_is_trusted(tmp_path):
    target = write_image(tmp_path / "elsewhere" / "a.png")
    link = tmp_path / "link.png"
    link.symlink_to(target)
    assert discover([link])[0] == [ImageCandidate(real(target), None)]


def test_discover_then_inspect(tmp_path):
    root = tmp_path / "pets"
    write_image(root / "cat" / "a.png")
    (root / "cat" / "broken.png").write_bytes(b"")
    candidates, _ = discover([root])
    results = [inspect_image(c.source) for c in candidates]
    assert [type(r) for r in results] == [ValidImage, Rejected]


def test_a_split_layout_gives_the_class_folder_as_label_and_the_split_folder_as_split(tmp_path):
    root = tmp_path / "dataset"
    train_cat = write_image(root / "train" / "cat" / "a.png")
    val_dog = write_image(root / "Val" / "dog" / "b.png")
    test_cat = write_image(root / "test" / "cat" / "deeper" / "c.png")
    candidates, _ = discover([root])
    assert candidates == [
        ImageCandidate(real(val_dog), "dog", "valid"),
        ImageCandidate(real(test_cat), "cat", "test"),
        ImageCandidate(real(train_cat), "cat", "train"),
    ]


@pytest.mark.parametrize(
    "layout",
    [
        ("train/a.png", "cat/b.png"),  # a class named train beside other classes
        ("train/cat/a.png", "other/cat/b.png"),  # not every top folder is a split
        ("train/cat/a.png", "train/b.png"),  # an image right inside a split folder
    ],
)
def test_other_layouts_keep_the_top_folder_as_label_and_no_split(tmp_path, layout):
    root = tmp_path / "dataset"
    for relative in layout:
        write_image(root / relative)
    candidates, _ = discover([root])
    assert {c.split for c in candidates} == {None}
    assert {c.label for c in candidates} == {relative.split("/")[0] for relative in layout}


def test_a_split_layout_forced_off_gets_neither_labels_nor_splits(tmp_path):
    root = tmp_path / "dataset"
    write_image(root / "train" / "cat" / "a.png")
    candidates, _ = discover([root], imagefolder=False)
    assert [(c.label, c.split) for c in candidates] == [(None, None)]
