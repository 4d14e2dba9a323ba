"""The GPU path: mixed precision chosen automatically, pinned memory, same record."""

import pytest

from core.training.run import choose_precision, train_experiment
from tests.core.training.conftest import tiny_params

pytestmark = [pytest.mark.gpu, pytest.mark.filterwarnings("ignore")]


def test_auto_precision_is_mixed_on_a_gpu():
    assert choose_precision("auto") in ("bf16-mixed", "16-mixed")


def test_training_on_the_gpu_registers_a_model(shapes_workspace):
    outcome = train_experiment(
        shapes_workspace,
        "shapes",
        tiny_params(shapes_workspace, "precision=auto"),
        echo=lambda _line: None,
    )
    assert outcome.model_version == "1"
    assert 0.0 <= outcome.metrics["test_acc"] <= 1.0
