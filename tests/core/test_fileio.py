import os

import pytest

from core.errors import CockpitError
from core.fileio import atomic_write_text, load_json_mapping, load_yaml_mapping


def test_atomic_write_replaces_whole_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "sub" / "f.yaml"
    atomic_write_text(target, "a: 1\n")
    atomic_write_text(target, "a: 2\n")
    assert target.read_text() == "a: 2\n"
    assert [p.name for p in target.parent.iterdir()] == ["f.yaml"]


def test_failed_write_keeps_previous_content(tmp_path, monkeypatch):
    target = tmp_path / "f.yaml"
    atomic_write_text(target, "old\n")

    def full_disk(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(CockpitError, match="No space left on device.*unchanged"):
        atomic_write_text(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["f.yaml"]


def test_yaml_errors_name_file_line_and_column(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_text("lr: 0.1\nbatch_size: [1, 2\n")
    with pytest.raises(CockpitError) as info:
        load_yaml_mapping(bad, "parameter file")
    message = str(info.value)
    assert str(bad) in message and "line" in message and "\n" not in message


def test_yaml_top_level_must_be_mapping(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_text("- a\n- b\n")
    with pytest.raises(CockpitError, match="top level must be a mapping"):
        load_yaml_mapping(bad, "parameter file")


def test_missing_and_empty_yaml(tmp_path):
    assert load_yaml_mapping(tmp_path / "none.yaml", "x", missing_ok=True) == {}
    with pytest.raises(CockpitError, match="does not exist"):
        load_yaml_mapping(tmp_path / "none.yaml", "x")
    empty = tmp_path / "empty.yaml"
    empty.write_text("# only a comment\n")
    assert load_yaml_mapping(empty, "x") == {}


def test_binary_file_is_reported_not_crashed_on(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CockpitError, match="not UTF-8"):
        load_yaml_mapping(bad, "parameter file")


def test_json_errors_name_line(tmp_path):
    bad = tmp_path / "registry.json"
    bad.write_text('{"models": {,}}')
    with pytest.raises(CockpitError, match=r"line 1, column \d+: invalid JSON"):
        load_json_mapping(bad, "registry")
