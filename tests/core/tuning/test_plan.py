"""The study's plan on a real workspace: the network's parameters counted, the theme's
train images, the trial cost measured on an earlier run, and the parent run's record."""

import pytest
from click.testing import CliRunner
from mlflow.tracking import MlflowClient

from cockpit.cli.main import cli
from core.history.costs import plan_study, seconds_per_epoch
from core.training.run import train_experiment
from core.tuning.selection import DatasetSize, ModelComplexity
from core.tuning.study import run_study
from tests.core.training.conftest import tiny_params
from tests.core.tuning.test_study import write_study

pytestmark = pytest.mark.filterwarnings("ignore")


def test_the_plan_is_measured_and_recorded(shapes_workspace):
    ws = shapes_workspace
    config = write_study(ws, 1)
    plan = plan_study(ws, "shapes", config, budget_seconds=3600)
    # simple_cnn at 16 px on 3 classes: counted on the meta device
    assert plan.profile.parameters is not None and plan.profile.parameters < 100_000
    assert plan.profile.model is ModelComplexity.SIMPLE
    assert plan.profile.data is DatasetSize.SMALL and plan.profile.train_images > 0
    assert plan.seconds_per_trial is None and "no earlier run" in plan.recommended.reason

    train_experiment(ws, "shapes", tiny_params(ws), echo=lambda _l: None)
    per_epoch = seconds_per_epoch(ws, "shapes")
    assert per_epoch is not None and per_epoch > 0
    plan = plan_study(ws, "shapes", config, budget_seconds=per_epoch * 2 * 3)
    assert plan.seconds_per_trial == pytest.approx(per_epoch * 2)
    assert plan.recommended.name == "3" and "measured" in plan.recommended.reason

    result = CliRunner().invoke(
        cli,
        ["-w", str(ws.root), "submit", "tune", "--theme", "shapes", "--no-runner",
         "--time-budget", "1"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "profile: simple model (" in result.output
    assert "small data (" in result.output and "sampler: " in result.output

    lines = []
    outcome = run_study(ws, "shapes", config, seconds_per_trial=12.5, echo=lines.append)
    assert any(line.startswith("profile: simple model") for line in lines)
    params = MlflowClient(ws.mlflow_tracking_uri).get_run(outcome.parent_run_id).data.params
    assert params["model_complexity"] == "simple"
    assert params["dataset_size"] == "small"
    assert params["seconds_per_trial"] == "12.5"
    assert params["pruner"] == "none" and params["sampler_reason"]
