"""A cache of decoded, preprocessed uint8 images for training: in memory (bounded by a
byte budget, least recently used out first) and on disk (one ``.npy`` file per image and
preprocessing, under the workspace's ``output/cache/``, which git ignores).

Keys: an entry on disk is named by the SHA-256 of the image file's bytes and lives in a
folder named by the preprocessing (``variant``), so a changed file (new content, new hash)
is never served from an older entry, and other settings never share entries. In memory an
entry is also tied to the file's size and modification time, checked on every use, so a
file replaced during a run is read again.

The cache never changes results: an entry holds exactly the array the preprocessing made.
An entry that cannot be read (cut short, damaged, wrong type) is rebuilt from the image and
replaced, never trusted. Entries are written to a temporary file and renamed into place
(whole files only, also when DataLoader workers race); they are not fsynced, because a
cache entry lost in a crash is only rebuilt.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np

Build = Callable[[bytes], np.ndarray]  # the image file's bytes -> HxWxC uint8 array


class ImageCache:
    """``get(path, variant, build)``: the array ``build`` makes of the file ``path``,
    from memory, from disk, or built (and then kept in both)."""

    def __init__(self, folder: Path | None, memory_bytes: int) -> None:
        self.folder = Path(folder) if folder is not None else None
        self.memory_bytes = max(0, int(memory_bytes))
        self._memory: OrderedDict[tuple[str, str], tuple[tuple[int, int], np.ndarray]] = (
            OrderedDict()
        )
        self._held = 0
        self.hits = {"memory": 0, "disk": 0, "built": 0, "rebuilt": 0}

    @property
    def held_bytes(self) -> int:
        return self._held

    def get(self, path: Path, variant: str, build: Build) -> np.ndarray:
        stat = os.stat(path)
        signature = (stat.st_mtime_ns, stat.st_size)
        key = (str(path), variant)
        found = self._memory.get(key)
        if found is not None and found[0] == signature:
            self._memory.move_to_end(key)
            self.hits["memory"] += 1
            return found[1]
        data = Path(path).read_bytes()
        array = self._from_disk(hashlib.sha256(data).hexdigest(), variant, data, build)
        # the arrays handed out are shared: nobody may change them in place
        array.flags.writeable = False
        self._remember(key, signature, array)
        return array

    def _entry(self, digest: str, variant: str) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / variant / digest[:2] / f"{digest}.npy"

    def _from_disk(self, digest: str, variant: str, data: bytes, build: Build) -> np.ndarray:
        entry = self._entry(digest, variant)
        if entry is not None and entry.exists():
            try:
                array = np.load(entry, allow_pickle=False)
                if array.dtype == np.uint8 and array.ndim == 3:
                    self.hits["disk"] += 1
                    return array
            except (OSError, ValueError, EOFError):
                pass
            self.hits["rebuilt"] += 1  # unreadable: rebuilt below and replaced
        else:
            self.hits["built"] += 1
        array = np.ascontiguousarray(build(data))
        if entry is not None:
            self._write(entry, array)
        return array

    @staticmethod
    def _write(entry: Path, array: np.ndarray) -> None:
        temporary = entry.with_name(f".{entry.stem}.{uuid.uuid4().hex}.tmp")
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            with open(temporary, "wb") as handle:
                np.save(handle, array, allow_pickle=False)
            os.replace(temporary, entry)
        except OSError:
            # a full or read-only disk: training goes on from memory and the images
            temporary.unlink(missing_ok=True)

    def _remember(
        self, key: tuple[str, str], signature: tuple[int, int], array: np.ndarray
    ) -> None:
        size = array.nbytes
        if size > self.memory_bytes:
            return
        old = self._memory.pop(key, None)
        if old is not None:
            self._held -= old[1].nbytes
        while self._memory and self._held + size > self.memory_bytes:
            _, (_, dropped) = self._memory.popitem(last=False)
            self._held -= dropped.nbytes
        self._memory[key] = (signature, array)
        self._held += size

    def __getstate__(self) -> dict[str, object]:
        # a DataLoader worker started by spawning gets the settings, not the arrays
        state = dict(self.__dict__)
        state["_memory"], state["_held"] = OrderedDict(), 0
        return state
