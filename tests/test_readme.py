"""The README (and docs/*.md) executed: every ```bash block runs, in order, in a fresh home.

The reader's own images (``~/data/cells``) are
generated shapes in two class folders. A block that cannot run here is preceded by ``<!-- readme-test: skip (why) -->``. Each
command must exit 0, or the code its comment states (``# ... exit 2``). The demo runs with
its real ``COCKPIT_DEMO_PER_CLASS`` / ``COCKPIT_DEMO_EPOCHS`` settings, made tiny.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP_MARKER = re.compile(r"<!--\s*readme-test:\s*skip\s*\((?P<why>[^)]+)\)\s*-->")
FENCE = re.compile(r"^```(?P<lang>\S*)\s*$")
STATED_EXIT = re.compile(r"#.*\bexits? (?:code )?(?P<code>\d+)\b")
RC_TAG = "__readme_rc__"


@dataclass(frozen=True)
class Block:
    source: str
    line: int
    commands: tuple[str, ...]
    skip: str | None


def bash_blocks(path: Path) -> list[Block]:
    """The ```bash blocks of ``path`` with their commands (continuation lines joined,
    comment-only lines dropped) and the skip reason written before them, if any."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        start = index
        end = start + 1
        while end < len(lines) and not FENCE.match(lines[end]):
            end += 1
        if fence["lang"] == "bash":
            before = next((text for text in reversed(lines[:start]) if text.strip()), "")
            marker = SKIP_MARKER.search(before)
            blocks.append(
                Block(
                    f"{path.name}:{start + 1}",
                    start + 1,
                    tuple(_commands(lines[start + 1 : end])),
                    marker["why"] if marker else None,
                )
            )
        index = end + 1
    return blocks


def _commands(lines: list[str]) -> list[str]:
    commands: list[str] = []
    pending = ""
    for text in lines:
        if not pending and (not text.strip() or text.lstrip().startswith("#")):
            continue
        pending += text.strip() if pending else text
        if text.rstrip().endswith("\\"):
            pending = pending.rstrip()[:-1].rstrip() + " "
            continue
        commands.append(pending.strip())
        pending = ""
    if pending:
        commands.append(pending.strip())
    return commands


def expected_exit(command: str) -> int:
    stated = STATED_EXIT.search(command)
    return int(stated["code"]) if stated else 0


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_the_parser_reads_blocks_markers_and_stated_exits(tmp_path: Path) -> None:
    page = tmp_path / "sample.md"
    page.write_text(
        "<!-- readme-test: skip (needs a display) -->\n\n```bash\nmake run\n```\n"
        "text\n```bash\n# a comment\ncockpit a \\\n  --b c   # fine\n"
        "cockpit bad   # exits 2\n```\n```\nnot bash\n```\n",
        encoding="utf-8",
    )
    first, second = bash_blocks(page)
    assert first.skip == "needs a display" and first.commands == ("make run",)
    assert second.skip is None
    assert second.commands == ("cockpit a --b c   # fine", "cockpit bad   # exits 2")
    assert [expected_exit(c) for c in second.commands] == [0, 2]


def _script(blocks: list[Block], start: Path) -> tuple[str, list[tuple[Block, str]]]:
    """One bash script for a page (``cd`` carries over, as in the reader's terminal); after
    each command its exit status is printed with its number."""
    parts = [f"cd {_quote(start)}"]
    ran: list[tuple[Block, str]] = []
    for block in blocks:
        if block.skip:
            continue
        for command in block.commands:
            parts.append(command)
            parts.append(f'echo "{RC_TAG} {len(ran)} $?"')
            ran.append((block, command))
    return "\n".join(parts) + "\n", ran


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "'\\''") + "'"


def _write_your_own_images(folder: Path) -> None:
    """The reader's images the README imports: a class_name/*.png tree of two classes,
    and beside it ``new/``: loose images without class folders and a ``labels.csv``."""
    from core.demo.shapes import write_demo_images

    write_demo_images(folder, per_class=12, size=32, seed=3)
    (folder / "circle").rename(folder / "healthy")
    (folder / "square").rename(folder / "infected")
    # loose files without class folders (they import unlabeled), and a file,label list
    new = folder.parent / "new"
    new.mkdir(parents=True, exist_ok=True)
    rows = ["file,label"]
    for index, path in enumerate(sorted((folder / "triangle").iterdir())[:4]):
        name = f"{'hi'[index % 2]}_{index}.png"
        path.rename(new / name)
        rows.append(f"{name},{'healthy' if name.startswith('h') else 'infected'}")
    (new / "labels.csv").write_text("\n".join(rows) + "\n")
    for path in (folder / "triangle").iterdir():
        path.unlink()
    (folder / "triangle").rmdir()


@pytest.mark.slow
@pytest.mark.parametrize("page", markdown_files(), ids=lambda p: p.name)
def test_every_bash_block_of_the_page_runs(page: Path, tmp_path: Path) -> None:
    blocks = bash_blocks(page)
    for block in blocks:
        if block.skip is not None:
            assert block.skip.strip(), f"{block.source}: say why the block is skipped"
    if not any(block.skip is None for block in blocks):
        pytest.skip(f"{page.name} has no block to run")
    home = tmp_path / "home"
    checkout = tmp_path / "checkout"
    home.mkdir()
    checkout.mkdir()
    # the reader's checkout: `source .venv/bin/activate` finds this test's environment
    (checkout / ".venv").symlink_to(Path(sys.prefix))
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "HOME": str(home),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "QT_QPA_PLATFORM": "offscreen",
        "COCKPIT_DEMO_PER_CLASS": "20",
        "COCKPIT_DEMO_EPOCHS": "2",
    }
    env.pop("COCKPIT_WORKSPACE", None)
    _write_your_own_images(home / "data" / "cells")
    script, ran = _script(blocks, checkout)
    result = subprocess.run(
        ["bash", "--noprofile", "--norc"],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        cwd=checkout,
        timeout=600,
    )
    statuses = dict(
        (int(number), int(code))
        for number, code in re.findall(rf"^{RC_TAG} (\d+) (\d+)$", result.stdout, re.M)
    )
    for number, (block, command) in enumerate(ran):
        assert number in statuses, f"{block.source}: `{command}` never finished\n{result.stderr}"
        wanted = expected_exit(command)
        assert statuses[number] == wanted, (
            f"{block.source}: `{command}` exited {statuses[number]}, expected {wanted}\n"
            f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
        )
