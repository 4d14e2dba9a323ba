"""Near duplicates: resized, recompressed copies are found; distinct images of the same
layout in other colours (the demo shapes) are not."""

from __future__ import annotations

from PIL import Image

from core.assist.duplicates import near_duplicates, perceptual_hashes
from core.demo import write_demo_images


def test_copies_are_paired_and_same_layout_other_colours_is_not(tmp_path):
    write_demo_images(tmp_path, per_class=60, size=32, seed=1)
    originals = sorted(tmp_path.rglob("*.png"))
    for i, path in enumerate(originals[:8]):
        with Image.open(path) as image:
            image.convert("RGB").resize((40, 40)).save(tmp_path / f"copy{i}.jpg", quality=80)
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    found = perceptual_hashes(
        tmp_path, [(i, str(p.relative_to(tmp_path))) for i, p in enumerate(files)]
    )
    pairs = near_duplicates(found, 4)
    named = {frozenset((files[p.first].name, files[p.second].name)) for p in pairs}
    expected = {frozenset((originals[i].name, f"copy{i}.jpg")) for i in range(8)}
    assert named == expected
    # structure alone (no colour check) also pairs distinct shapes in the same place
    assert len(near_duplicates(found.hashes, 4)) > len(pairs)
