"""Packaging hook: the example workspace (``configs/`` and ``definitions/`` of this
repository, which is itself a workspace) travels inside the wheel as ``core/_template``,
so ``cockpit init`` works where the project was installed with pip or pipx, without the
repository. Everything else is declared in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# the same patterns as core/scaffold.py's TEMPLATE_GLOBS (a test compares the two)
TEMPLATE_GLOBS = ("configs/*.yaml", "configs/*.json", "definitions/**/*.py")


class BuildWithTemplate(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "core" / "_template"
        for pattern in TEMPLATE_GLOBS:
            for path in sorted(ROOT.glob(pattern)):
                if "__pycache__" in path.parts or not path.is_file():
                    continue
                destination = target / path.relative_to(ROOT)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, destination)


setup(cmdclass={"build_py": BuildWithTemplate})
