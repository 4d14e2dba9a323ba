"""The history command's choices are the core's, written out for a fast start-up."""

from cockpit.cli.history_cmds import SORT_CHOICES, STATUS_CHOICES
from core.history import SORT_KEYS, STATUSES


def test_history_choices_match_the_core():
    assert STATUS_CHOICES == STATUSES
    assert SORT_CHOICES == SORT_KEYS
