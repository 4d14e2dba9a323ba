"""tests/core/data/test_themes.py again, with the workspace database on PostgreSQL: one
suite over every backend (the SQLite run is the original module's)."""

import pytest

from tests.core.data.test_themes import *  # noqa: F403

pytestmark = [
    pytest.mark.parametrize("backend", ["postgresql"], indirect=True),
    pytest.mark.usefixtures("backend"),
    pytest.mark.postgresql,
]
