"""Import of N small PNGs (decode-validate + hash + copy + DB) vs a plain shutil.copy loop.

    .venv/bin/python benchmarks/bench_import.py [N]

Both runs copy the same generated files into a fresh folder on the same disk; the ratio
is what the import's safety (decoding every file, hashing, fsync, transactions) costs.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.data.importer import import_images  # noqa: E402
from core.data.themes import create_theme  # noqa: E402
from core.db import open_database  # noqa: E402
from core.scaffold import init_workspace  # noqa: E402
from tests.imaging import make_image  # noqa: E402


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        source = tmp_path / "source"
        for index in range(count):
            make_image(source / f"{index % 10}" / f"{index:05d}.png", index, size=32)
        files = sorted(source.rglob("*.png"))

        baseline_dir = tmp_path / "baseline"
        baseline_dir.mkdir()
        start = time.perf_counter()
        for path in files:
            shutil.copy(path, baseline_dir / path.name)
        baseline = time.perf_counter() - start

        workspace = init_workspace(tmp_path / "ws").workspace
        db = open_database(workspace)
        create_theme(db, "bench")
        start = time.perf_counter()
        report = import_images(db, workspace, "bench", [source])
        ours = time.perf_counter() - start
        assert report.imported == count, report

    print(f"files: {count} PNG 32x32")
    print(f"shutil.copy loop : {baseline:7.3f} s  ({count / baseline:8.0f} files/s)")
    print(f"cockpit import   : {ours:7.3f} s  ({count / ours:8.0f} files/s)")
    print(f"ratio import/copy: {ours / baseline:5.2f}x  (goal <= 3x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
