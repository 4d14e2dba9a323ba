"""The training tests' fixtures, defined once in ``tests.core.training.shapes``."""

from tests.core.training.shapes import TINY, shapes_workspace, tiny_params  # noqa: F401
