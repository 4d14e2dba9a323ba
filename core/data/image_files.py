"""Find image files in what the user picked, and decide which of them are really usable.

``discover`` turns files and folders into candidate files without opening any of them;
``inspect_image`` reads one candidate once, hashes it and fully decodes it with Pillow.
Neither raises for a bad file: each bad file comes back as a ``Rejected`` with a one-line
reason, so an import of 20,000 files reports its bad ones instead of stopping at the first.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFile, UnidentifiedImageError

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "SUPPORTED_EXTENSIONS",
    "SUPPORTED_MODES",
    "ImageCandidate",
    "Rejected",
    "ValidImage",
    "discover",
    "inspect_image",
]

SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
)

# Modes that convert to L/RGB without guessing a value range (16-bit grey scaled from its
# full range: core.preprocessing.to_8bit). 16-bit grey comes in three byte
# orders that differ only in how Pillow names them. Rejected: 32-bit "I" and float "F"
# (scientific data with no defined display range) and colour spaces such as YCbCr or LAB.
SUPPORTED_MODES: frozenset[str] = frozenset(
    {"1", "L", "LA", "P", "PA", "RGB", "RGBA", "CMYK", "I;16", "I;16L", "I;16B"}
)

DEFAULT_MAX_PIXELS = 89_478_485  # Pillow's own decompression-bomb limit

# Decoded format -> extension of the stored copy. Opening is restricted to these formats so
# that e.g. a PostScript file renamed .png is never handed to a decoder it could abuse.
_FORMAT_EXTENSIONS = {
    "PNG": ".png",
    "JPEG": ".jpg",
    "MPO": ".jpg",  # multi-picture JPEG written by many cameras; Pillow names it MPO
    "BMP": ".bmp",
    "GIF": ".gif",
    "TIFF": ".tif",
    "WEBP": ".webp",
}
_FORMATS = tuple(name for name in _FORMAT_EXTENSIONS if name != "MPO")  # JPEG opens MPO too

_OUTSIDE = "symlink points outside the imported folder"


@dataclass(frozen=True, slots=True)
class ImageCandidate:
    source: Path  # absolute, resolved path of the file
    label: str | None  # class folder name in an ImageFolder layout, else None
    split: str | None = None  # train, valid or test: the split folder it lies in, if any


# Split folders of a dataset laid out as split/class/file (train/cat/a.png, val/cat/b.png):
# the folder names datasets use, and the split each stands for.
SPLIT_FOLDERS = {
    "train": "train",
    "training": "train",
    "val": "valid",
    "valid": "valid",
    "validation": "valid",
    "dev": "valid",
    "test": "test",
    "testing": "test",
}


@dataclass(frozen=True, slots=True)
class ValidImage:
    source: Path
    sha256: str  # hex digest of the file bytes
    width: int
    height: int
    mode: str  # Pillow mode
    extension: str  # from the decoded format, not the file name: ".png", ".jpg", ...
    size_bytes: int


@dataclass(frozen=True, slots=True)
class Rejected:
    source: Path  # absolute path of the bad entry; a bad symlink is named, not its target
    reason: str  # one short line


# ---------------------------------------------------------------------------------------------
# discover


def discover(
    paths: Sequence[Path | str], *, imagefolder: bool | None = None
) -> tuple[list[ImageCandidate], list[Rejected]]:
    """Expand files and folders (recursively) into candidate image files, without opening them.

    A file given directly is a candidate when its extension is supported. Inside folders,
    hidden entries (name starting with ".") are skipped silently; files with another extension
    come back as ``Rejected`` so that the caller can report them. A symlink inside a folder
    whose target lies outside that folder is rejected; symlink loops are walked once.

    ImageFolder layout: with ``imagefolder`` True, or None and a folder without images
    directly inside but with images in sub-folders, each image is labelled with the name of
    the top-level sub-folder it lies under (``cat/a.png`` and ``cat/sub/b.png`` -> "cat").
    Images directly inside the folder keep no label. False never sets labels.

    Split layout: when every top-level sub-folder is named as a split (``SPLIT_FOLDERS``:
    train, val, valid, validation, dev, test, ...) and every image lies in a class folder
    inside one (``train/cat/a.png``, ``val/cat/b.png``), the class folder is the label and
    the split folder the image's split - the layout most published datasets come in.

    Candidates keep the order of ``paths``, and within a folder are sorted by relative path;
    the same real file reached twice is returned once, the first time it is reached.
    """
    candidates: list[ImageCandidate] = []
    rejected: list[Rejected] = []
    seen_files: set[str] = set()
    seen_rejected: set[Path] = set()

    def reject(source: Path, reason: str) -> None:
        if source not in seen_rejected:
            seen_rejected.add(source)
            rejected.append(Rejected(source, reason))

    def accept(real: str, label: str | None, split: str | None = None) -> None:
        if real not in seen_files:
            seen_files.add(real)
            candidates.append(ImageCandidate(Path(real), label, split))

    for given in paths:
        shown = Path(os.path.abspath(given))
        real = os.path.realpath(given)
        if not os.path.exists(real):
            reject(shown, "not found")
        elif os.path.isdir(real):
            found, folder_rejected = _walk_folder(real)
            for item in folder_rejected:
                reject(item.source, item.reason)
            if imagefolder is None:
                use_labels = bool(found) and all(len(rel) > 1 for rel, _ in found)
            else:
                use_labels = imagefolder
            by_split = use_labels and _split_layout(found)
            for rel, file_real in found:
                if by_split:
                    accept(file_real, rel[1], SPLIT_FOLDERS[rel[0].lower()])
                else:
                    accept(file_real, rel[0] if use_labels and len(rel) > 1 else None)
        elif (reason := _file_problem(shown.name, real)) is not None:
            reject(shown, reason)
        else:
            accept(real, None)
    return candidates, rejected


def _split_layout(found: list[tuple[tuple[str, ...], str]]) -> bool:
    """Whether the images lie as split/class/file, every top folder named as a split."""
    return bool(found) and all(
        len(rel) > 2 and rel[0].lower() in SPLIT_FOLDERS for rel, _real in found
    )


def _walk_folder(root: str) -> tuple[list[tuple[tuple[str, ...], str]], list[Rejected]]:
    """Return (relative parts as walked, real path) of each image file under ``root``.

    Folders are walked through their real paths first; a symlinked folder inside ``root`` is
    walked only afterwards and only if its target was not walked yet, so that a class folder
    gets its own name as label rather than the name of a link to it, and loops end.
    """
    found: list[tuple[tuple[str, ...], str, bool]] = []
    rejected: list[Rejected] = []
    walked = {root}
    pending: list[tuple[tuple[str, ...], str]] = [((), root)]
    linked_folders: list[tuple[tuple[str, ...], str]] = []

    while pending or linked_folders:
        if not pending:
            rel_dir, real_dir = linked_folders.pop(0)
            if real_dir in walked:
                continue
            walked.add(real_dir)
            pending.append((rel_dir, real_dir))
        rel_dir, real_dir = pending.pop()
        try:
            entries = sorted(_scan(real_dir), key=lambda entry: entry.name)
        except OSError as exc:
            rejected.append(Rejected(Path(real_dir), f"cannot read folder: {_why(exc)}"))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = (*rel_dir, entry.name)
            if entry.is_symlink():
                real = os.path.realpath(entry.path)
                if not _is_inside(real, root):
                    rejected.append(Rejected(Path(entry.path), _OUTSIDE))
                elif os.path.isdir(real):
                    linked_folders.append((rel, real))
                elif (reason := _file_problem(entry.name, real)) is not None:
                    rejected.append(Rejected(Path(entry.path), reason))
                else:
                    found.append((rel, real, True))
            # DirEntry answers from the folder listing: no stat call per file
            elif entry.is_dir(follow_symlinks=False):
                if entry.path not in walked:
                    walked.add(entry.path)
                    pending.append((rel, entry.path))
            elif (reason := _file_problem(entry.name, None)) is not None:
                rejected.append(Rejected(Path(entry.path), reason))
            elif not entry.is_file(follow_symlinks=False):
                rejected.append(Rejected(Path(entry.path), "not a regular file"))
            else:
                found.append((rel, entry.path, False))

    # A file reached both directly and through a link is kept under its direct location.
    found.sort(key=lambda item: (item[2], item[0]))
    unique: dict[str, tuple[str, ...]] = {}
    for rel, real, _ in found:
        unique.setdefault(real, rel)
    files = sorted(((rel, real) for real, rel in unique.items()), key=lambda item: item[0])
    rejected.sort(key=lambda item: item.source)
    return files, rejected


def _scan(folder: str) -> Iterator[os.DirEntry[str]]:
    with os.scandir(folder) as entries:
        yield from entries


def _file_problem(name: str, real: str | None) -> str | None:
    """Why the file ``name`` (resolving to ``real``) cannot be a candidate, or None.

    With ``real`` None only the extension is checked.
    """
    suffix = os.path.splitext(name)[1].lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        return f"not a supported image extension ({suffix or 'none'})"
    if real is None:
        return None
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        return "not found (broken symlink)"
    except OSError as exc:
        return f"cannot read file: {_why(exc)}"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    return None


def _is_inside(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # different drives on Windows
        return False


# ---------------------------------------------------------------------------------------------
# inspect_image


class _StrictDecoding:
    """Decode with ``ImageFile.LOAD_TRUNCATED_IMAGES`` off, then put the caller's value back.

    The flag is global to Pillow and images are inspected from several threads at once: the
    first thread in saves the caller's value and the last one out restores it, so that
    overlapping calls never restore each other's temporary value permanently.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._saved = False

    def __enter__(self) -> None:
        with self._lock:
            if self._active == 0:
                self._saved = ImageFile.LOAD_TRUNCATED_IMAGES
                ImageFile.LOAD_TRUNCATED_IMAGES = False
            self._active += 1

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self._active -= 1
            if self._active == 0:
                ImageFile.LOAD_TRUNCATED_IMAGES = self._saved


_strict_decoding = _StrictDecoding()


def inspect_image(path: Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> ValidImage | Rejected:
    """Read ``path`` once, hash its bytes and decode them fully; never raises for a bad file.

    The size is checked against ``max_pixels`` from the header, before any pixel is decoded.
    Pillow's own limit (``Image.MAX_IMAGE_PIXELS``) still applies on top: an image over twice
    that is rejected by Pillow even when ``max_pixels`` is larger. Animated images are
    accepted with the size of their first frame, and only that frame is decoded.
    """
    path = Path(path)
    data = _read_regular_file(path)
    if isinstance(data, str):
        return Rejected(path, data)
    if not data:
        return Rejected(path, "empty file (0 bytes)")
    digest = hashlib.sha256(data).hexdigest()
    with _strict_decoding:
        try:
            image = Image.open(io.BytesIO(data), formats=_FORMATS)
        except UnidentifiedImageError:
            return Rejected(path, "not an image (cannot identify image file)")
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            return Rejected(path, f"image too large: {_one_line(exc)}")
        except Exception as exc:  # a malformed header can raise nearly anything
            return Rejected(path, f"truncated or corrupt image: {_one_line(exc)}")
        with image:
            width, height = image.size
            if width * height > max_pixels:
                return Rejected(
                    path,
                    f"image too large: {width}x{height} pixels exceeds the limit of {max_pixels}",
                )
            if image.mode not in SUPPORTED_MODES:
                return Rejected(
                    path,
                    f"unsupported pixel mode {image.mode!r}: save it as 8-bit or 16-bit grey, "
                    "RGB or RGBA",
                )
            try:
                image.load()
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                return Rejected(path, f"image too large: {_one_line(exc)}")
            except Exception as exc:  # decoders raise OSError, SyntaxError, zlib.error, ...
                return Rejected(path, f"truncated or corrupt image: {_one_line(exc)}")
            return ValidImage(
                source=path,
                sha256=digest,
                width=width,
                height=height,
                mode=image.mode,
                extension=_FORMAT_EXTENSIONS[image.format or ""],
                size_bytes=len(data),
            )


def _open_nonblocking(path: str, flags: int) -> int:
    # Without O_NONBLOCK, opening a FIFO named like an image would wait for a writer forever.
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def _read_regular_file(path: Path) -> bytes | str:
    """The bytes of ``path``, or a one-line reason why they cannot be read."""
    try:
        with open(path, "rb", opener=_open_nonblocking) as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return "not a regular file"
            return handle.read()
    except FileNotFoundError:
        return "not found"
    except IsADirectoryError:
        return "not a regular file"
    except PermissionError:
        return "cannot read file (permission denied)"
    except OSError as exc:
        return f"cannot read file: {_why(exc)}"


def _why(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
