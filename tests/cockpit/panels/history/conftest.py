from tests.core.history.history_workspace import history  # noqa: F401  (shared, session)
