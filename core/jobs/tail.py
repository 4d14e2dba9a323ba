"""Incremental reading of a growing text file (a job's log or metrics), for live views.

``FileTail.read()`` returns only the complete lines written since the last call: the file
is reopened each time (so a rotated file is followed, and no handle is held), and only the
new bytes are read. A partial last line stays buffered until its newline arrives. A file
that shrank, was replaced by another one (new inode) or whose last bytes before the remembered
offset changed (truncated and rewritten past the old size between two reads) is read again
from the start, and the chunk says so (``reset``) so a view can clear what it showed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CHUNK = 8 * 1024 * 1024
CHECK_BYTES = 64  # compared before each read: a rewritten file differs there


@dataclass
class TailChunk:
    text: str = ""  # complete lines, each ending with "\n"
    reset: bool = False  # the file was truncated or replaced: the text starts it anew
    skipped: int = 0  # bytes left out at the start (``first_read_max``)
    more: bool = False  # more than ``chunk`` bytes were waiting: call read() again

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


class FileTail:
    """Follows one file. ``first_read_max`` caps the first read (and a read after a
    reset) to the file's last bytes, starting at a line boundary: a huge log opens at
    once. ``chunk`` caps any single read."""

    def __init__(
        self, path: Path, *, first_read_max: int | None = None, chunk: int = DEFAULT_CHUNK
    ) -> None:
        self.path = Path(path)
        self.first_read_max = first_read_max
        self.chunk = max(1, chunk)
        self.offset = 0  # bytes consumed, fragment included
        self._identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the file read
        self._fragment = b""  # bytes of a line whose newline has not arrived
        self._seen = b""  # the bytes just before ``offset``: a rewrite changes them
        self._fresh = True  # next read is a first read: apply ``first_read_max``

    def restart(self) -> None:
        """Read the file again from its start (or its last ``first_read_max`` bytes)."""
        self.offset = 0
        self._identity = None
        self._fragment = b""
        self._seen = b""
        self._fresh = True

    def read(self) -> TailChunk:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return TailChunk()  # not there yet (or gone while rotating): try again later
        try:
            return self._read(fd)
        finally:
            os.close(fd)

    def _read(self, fd: int) -> TailChunk:
        stat = os.fstat(fd)
        identity = (stat.st_dev, stat.st_ino)
        chunk = TailChunk()
        known = self._identity is not None
        if known and (
            identity != self._identity
            or stat.st_size < self.offset
            or (
                self.offset
                and os.pread(fd, len(self._seen), self.offset - len(self._seen)) != self._seen
            )
        ):
            self.restart()
            chunk.reset = True
        self._identity = identity
        if self._fresh:
            self._fresh = False
            if self.first_read_max is not None and stat.st_size > self.first_read_max:
                start = stat.st_size - self.first_read_max
                head = os.pread(fd, min(self.first_read_max, 64 * 1024), start)
                newline = head.find(b"\n")
                # start after the first newline in the window: never half a line
                self.offset = start + newline + 1 if newline >= 0 else start
                chunk.skipped = self.offset
                before = min(self.offset, CHECK_BYTES)
                self._seen = os.pread(fd, before, self.offset - before)
        wanted = stat.st_size - self.offset
        if wanted <= 0:
            return chunk
        data = os.pread(fd, min(wanted, self.chunk), self.offset)
        chunk.more = wanted > len(data)
        self.offset += len(data)
        self._seen = (self._seen + data)[-CHECK_BYTES:]
        data = self._fragment + data
        cut = data.rfind(b"\n") + 1
        self._fragment = data[cut:]
        text = data[:cut].decode("utf-8", errors="replace")
        if len(self._fragment) > self.chunk:  # a "line" without end: hand it over anyway
            text += self._fragment.decode("utf-8", errors="replace") + "\n"
            self._fragment = b""
        chunk.text = text
        return chunk
