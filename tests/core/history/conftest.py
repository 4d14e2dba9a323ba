from tests.core.history.history_workspace import history  # noqa: F401  (shared, session)
from tests.core.training.conftest import shapes_workspace  # noqa: F401  (fixture)
