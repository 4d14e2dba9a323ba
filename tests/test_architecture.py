"""Layer rules of ARCHITECTURE.md, checked on every test run."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_linter_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "core knows nothing of the GUI KEPT" in done.stdout


def test_queue_folder_holds_no_python():
    assert not list((ROOT / "queue").rglob("*.py"))
