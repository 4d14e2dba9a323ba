"""tests/core/data/test_labeling.py again, with the workspace database on PostgreSQL: one
suite over every backend (the SQLite run is the original module's)."""

import pytest

from tests.core.data.test_labeling import *  # noqa: F403

pytestmark = [
    pytest.mark.parametrize("backend", ["postgresql"], indirect=True),
    pytest.mark.usefixtures("backend"),
    pytest.mark.postgresql,
]

# injects a failure with a SQLite trigger; the transaction itself is the database's
del test_label_images_is_one_transaction_when_the_database_fails_midway  # noqa: F821
