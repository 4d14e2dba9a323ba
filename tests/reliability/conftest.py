from tests.core.training.conftest import shapes_workspace  # noqa: F401  (shared fixture)
