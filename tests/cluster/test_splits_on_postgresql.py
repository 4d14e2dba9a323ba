"""tests/core/data/test_splits.py again, with the workspace database on PostgreSQL: one
suite over every backend (the SQLite run is the original module's)."""

import pytest

from tests.core.data.test_splits import *  # noqa: F403

pytestmark = [
    pytest.mark.parametrize("backend", ["postgresql"], indirect=True),
    pytest.mark.usefixtures("backend"),
    pytest.mark.postgresql,
]
