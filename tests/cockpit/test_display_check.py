"""Before Qt starts, the cockpit says what stands between it and a window, one line per
missing piece with what to install, and exits 2: never Qt's abort (exit 134, core dump)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.display import DEBIAN_PACKAGES, DisplayReport, check_display, missing_by_ldd

COCKPIT = [sys.executable, "-m", "cockpit"]


def run_gui(workspace, env):
    return subprocess.run(
        [*COCKPIT, "-w", str(workspace.root), "gui"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def bare_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    return {**env, **extra}


@pytest.mark.skipif(sys.platform != "linux", reason="the display variables are Linux's")
def test_no_display_is_one_line_and_exit_2(workspace):
    done = run_gui(workspace, bare_env())
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("error: display: no display found")
    assert "xvfb-run" in lines[0]
    assert all(line.startswith("error: display: ") for line in lines)
    assert "Traceback" not in done.stderr and "core dumped" not in done.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="X11 sockets are Linux's")
def test_a_display_without_a_server_is_named(workspace, tmp_path):
    free = next(n for n in range(90, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    done = run_gui(workspace, bare_env(DISPLAY=f":{free}"))
    assert done.returncode == 2
    assert f"error: display: DISPLAY=:{free} but no X server answers there" in done.stderr


def test_headless_platforms_need_no_display():
    assert check_display({"QT_QPA_PLATFORM": "offscreen"}).ok
    assert check_display({"QT_QPA_PLATFORM": "minimal"}).ok


@pytest.mark.skipif(sys.platform != "linux", reason="QT_QPA_PLATFORM plugins listed on Linux")
def test_an_unknown_platform_is_named_with_the_choices():
    report = check_display({"QT_QPA_PLATFORM": "nonsense", "DISPLAY": ":0"})
    assert any("QT_QPA_PLATFORM=nonsense is not a Qt platform here" in p for p in report.problems)
    assert any("xcb" in p and "offscreen" in p for p in report.problems)


@pytest.mark.skipif(
    shutil.which("gcc") is None or shutil.which("ldd") is None, reason="needs gcc and ldd"
)
def test_a_missing_system_library_is_found_and_its_package_named(tmp_path):
    """A real library linked against one that is then removed: what ldd reports missing is
    what the check names, with the install command for known libraries."""
    (tmp_path / "ghost.c").write_text("int ghost(void) { return 1; }\n")
    (tmp_path / "needs.c").write_text("int ghost(void);\nint needs(void) { return ghost(); }\n")
    subprocess.run(
        [
            "gcc",
            "-shared",
            "-fPIC",
            "-o",
            str(tmp_path / "libghost.so.7"),
            str(tmp_path / "ghost.c"),
            "-Wl,-soname,libghost.so.7",
        ],
        check=True,
    )
    os.symlink("libghost.so.7", tmp_path / "libghost.so")
    subprocess.run(
        [
            "gcc",
            "-shared",
            "-fPIC",
            "-o",
            str(tmp_path / "libneeds.so"),
            str(tmp_path / "needs.c"),
            f"-L{tmp_path}",
            "-lghost",
        ],
        check=True,
    )
    (tmp_path / "libghost.so").unlink()
    (tmp_path / "libghost.so.7").unlink()
    assert missing_by_ldd(tmp_path / "libneeds.so") == ["libghost.so.7"]

    report = DisplayReport(
        "xcb", ("display: ...", "display: ..."), ("libxcb-icccm.so.4", "libghost.so.7")
    )
    hint = report.install_hint()
    assert hint.startswith("sudo apt-get install libxcb-icccm4")
    assert "libghost.so.7 with apt-file search" in hint
    assert report.lines()[-1] == f"display: install them with: {hint}"


def test_every_named_package_is_a_debian_name():
    assert all(p == p.lower() and " " not in p for p in DEBIAN_PACKAGES.values())


@pytest.mark.skipif(sys.platform != "linux", reason="the display variables are Linux's")
def test_doctor_reports_the_same_on_request(workspace):
    """`cockpit doctor --display` says what `cockpit gui` would refuse to start without."""
    done = subprocess.run(
        [*COCKPIT, "-w", str(workspace.root), "doctor", "--display"],
        env=bare_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "display: no display found" in done.stdout
    healthy = subprocess.run(
        [*COCKPIT, "-w", str(workspace.root), "doctor", "--display"],
        env=bare_env(QT_QPA_PLATFORM="offscreen"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
