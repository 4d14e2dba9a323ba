"""Listing and filtering 100,000 TrainData rows by theme, label and split.

    .venv/bin/python benchmarks/bench_listing.py [ROWS]

Baseline: the same filter as a bare sqlite3 query on a copy of the table without the
secondary indexes, so the ratio shows what the indexes buy; goal: each of our queries
< 100 ms.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from timing import best_of  # noqa: E402

from core.data.browse import UNLABELED, ImageFilter, count_images, list_images  # noqa: E402
from core.data.themes import create_theme  # noqa: E402
from core.db import open_database  # noqa: E402
from core.scaffold import init_workspace  # noqa: E402


def main(rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workspace = init_workspace(Path(tmp) / "ws").workspace
        db = open_database(workspace)
        themes = [create_theme(db, f"t{i}", [f"l{j}" for j in range(10)]) for i in range(3)]
        target = themes[1]
        label_ids = [lb.id for lb in target.labels]
        splits = ["train", "valid", "test", None]
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO train_data (image_path, theme_id, label_id, split, content_hash,"
                " original_name, width, height, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 32, 32, '2026-01-01', '2026-01-01')",
                [
                    (
                        f"images/x/{i}.png",
                        themes[i % 3].id,
                        None if i % 17 == 0 else themes[i % 3].labels[i % 10].id,
                        splits[i % 4],
                        f"{i:064x}",
                        f"img_{i}.png",
                    )
                    for i in range(rows)
                ],
            )
        filters = {
            "theme, first page": ImageFilter(target.id),
            "theme + label": ImageFilter(target.id, label_id=label_ids[3]),
            "theme + label + split": ImageFilter(target.id, label_id=label_ids[3], split="valid"),
            "theme, unlabeled": ImageFilter(target.id, label_id=UNLABELED),
            "theme + name search": ImageFilter(target.id, name_contains="img_999"),
        }
        plain = Path(tmp) / "plain.db"
        shutil.copy(workspace.database_file, plain)
        bare = sqlite3.connect(plain)
        for index in ("ix_train_data_theme_label", "ix_train_data_theme_split"):
            bare.execute(f"DROP INDEX {index}")
        print(f"rows: {rows}, three themes, 10 labels each")
        print(f"{'filter':<24} {'count ms':>9} {'page ms':>8} {'no-index ms':>12} {'ratio':>6}")
        for name, spec in filters.items():
            count_s = best_of(lambda spec=spec: count_images(db, spec))
            page_s = best_of(lambda spec=spec: list_images(db, spec, 0, 500))
            sql = "SELECT count(*) FROM train_data WHERE theme_id = ?"
            args: list = [spec.theme_id]
            if spec.label_id == UNLABELED:
                sql += " AND label_id IS NULL"
            elif spec.label_id is not None:
                sql += " AND label_id = ?"
                args.append(spec.label_id)
            if spec.name_contains:
                sql += " AND original_name LIKE ?"
                args.append(f"%{spec.name_contains}%")
            if spec.split:
                sql += " AND split = ?"
                args.append(spec.split)
            bare_s = best_of(lambda sql=sql, args=args: bare.execute(sql, args).fetchone())
            print(
                f"{name:<24} {count_s * 1e3:9.2f} {page_s * 1e3:8.2f} {bare_s * 1e3:12.2f}"
                f" {count_s / bare_s:6.2f}"
            )
        bare.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
