from tests.core.assist.assisted_workspace import assisted  # noqa: F401  (shared fixture)
from tests.core.training.shapes import shapes_workspace  # noqa: F401  (shared fixture)
