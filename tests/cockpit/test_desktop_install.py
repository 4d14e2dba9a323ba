"""`cockpit desktop-install`: a launcher the desktop's menu shows, which starts this
installation on the chosen workspace; `--uninstall` removes exactly what it wrote."""

import configparser
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from cockpit.cli import cli
from cockpit.desktop import ICON, quote_exec_argument


def read_entry(path):
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def exec_arguments(value):
    """What a desktop makes of an Exec value: string escapes first, then the quoting rules
    of the Desktop Entry Specification, then %% -> %."""
    text = value.replace("\\\\", "\0").replace("\\s", " ").replace("\0", "\\")
    argv, current, quoted, escaped, started = [], [], False, False, False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted, started = not quoted, True
        elif ch == " " and not quoted:
            if current or started:
                argv.append("".join(current))
            current, started = [], False
        else:
            current.append(ch)
    if current or started:
        argv.append("".join(current))
    return [a.replace("%%", "%") for a in argv]


def test_launcher_and_icon_are_written_and_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    root = tmp_path / 'my $pecial "workspace" 100%'
    from core.scaffold import init_workspace

    init_workspace(root)
    runner = CliRunner()
    done = runner.invoke(cli, ["-w", str(root), "desktop-install"])
    assert done.exit_code == 0, done.output
    launcher = tmp_path / "share" / "applications" / "experiment-cockpit.desktop"
    icon = tmp_path / "share" / "icons" / "hicolor" / "scalable" / "apps" / "experiment-cockpit.svg"
    assert icon.read_bytes() == ICON.read_bytes()
    entry = read_entry(launcher)
    assert entry["Type"] == "Application" and entry["Icon"] == "experiment-cockpit"
    # the Exec line, unquoted as a desktop does, is this installation's command on the
    # workspace, even with spaces, quotes, $ and % in its path
    argv = exec_arguments(entry["Exec"])
    assert argv[-3:] == ["--workspace", str(root.resolve()), "gui"]
    if shutil.which("desktop-file-validate"):
        checked = subprocess.run(
            ["desktop-file-validate", str(launcher)], capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr

    done = runner.invoke(cli, ["desktop-install", "--uninstall"])
    assert done.exit_code == 0
    assert not launcher.exists() and not icon.exists()
    assert (tmp_path / "share" / "applications").is_dir()  # nothing else removed


@pytest.mark.parametrize(
    ("argument", "quoted"),
    [
        ("/usr/bin/cockpit", "/usr/bin/cockpit"),
        ("/home/a b/ws", '"/home/a b/ws"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("cost$1", '"cost\\$1"'),
        ("100%", "100%%"),
    ],
)
def test_exec_arguments_are_quoted_by_the_desktop_entry_rules(argument, quoted):
    assert quote_exec_argument(argument) == quoted
