"""The one name rule for themes, labels, studies, run names and experiment folders."""

from __future__ import annotations

import pytest

from core.errors import CockpitError
from core.names import NAME_RULE, check_name, check_optional_name, inside, is_valid_name

GOOD = [
    "shapes",
    "it's",
    "cats and dogs",
    "v1.2-final_b",
    "_private",
    "猫と犬",  # Japanese
    "Ärger über Öl",
    "हिन्दी",  # Devanagari vowel signs are combining marks
    "x" * 64,
    "3",
]

BAD = [
    ("", "empty"),
    ("x" * 65, "65 characters"),
    ("/abs/path", "'/'"),
    ("../x", "'/'"),
    ("a\\b", "'\\\\'"),
    (".", "starts with '.'"),
    ("..", "starts with '.'"),
    (".hidden", "starts with '.'"),
    ("-rf", "starts with '-'"),
    ("'quoted'", "starts with"),
    ("ends.", "ends with '.'"),
    ('say "hi"', "'\"'"),
    ("<b>x</b>", "'<'"),
    ("tab\there", "'\\t'"),
    ("nul\x00", "'\\x00'"),
    ("a:b", "':'"),
    ("a*b", "'*'"),
]


@pytest.mark.parametrize("name", GOOD)
def test_good_names_pass_unchanged(name):
    assert is_valid_name(name)
    assert check_name("theme name", name) == name


@pytest.mark.parametrize(("name", "why"), BAD)
def test_bad_names_name_the_field_the_problem_and_the_rule(name, why):
    assert not is_valid_name(name.strip()) or name != name.strip()
    with pytest.raises(CockpitError) as caught:
        check_name("theme name", name)
    message = str(caught.value)
    assert message.startswith("theme name ")
    assert why in message
    assert NAME_RULE in message
    assert "\n" not in message
    assert caught.value.exit_code == 2


def test_surrounding_spaces_are_dropped_not_refused():
    assert check_name("label name", "  cat ") == "cat"


def test_empty_is_automatic_where_a_name_is_optional():
    assert check_optional_name("params run_name", "") == ""
    assert check_optional_name("params run_name", "baseline") == "baseline"
    with pytest.raises(CockpitError, match="params run_name '../x'"):
        check_optional_name("params run_name", "../x")


def test_inside_refuses_paths_that_leave_the_root(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    assert inside(root, root / "a" / "b", "study name") == root / "a" / "b"
    for escape in (root / ".." / "x", root / "/abs/path", root / "a" / ".." / ".." / "y"):
        with pytest.raises(CockpitError, match="study name: .* would lie outside"):
            inside(root, escape, "study name")


def test_inside_follows_symlinks_out_of_the_root(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(CockpitError, match="would lie outside"):
        inside(root, root / "link" / "x", "label 'link'")
