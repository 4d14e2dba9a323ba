"""A queued train job is frozen at submit: editing the workspace's files afterwards
changes the next job, never this one (real runner, job process, MLflow and files)."""

from pathlib import Path

import pytest
import yaml
from mlflow.tracking import MlflowClient

from core.config.augments import load_augments
from core.jobs.queue import JobQueue
from core.jobs.runner import Runner
from core.jobs.submit import submit_train
from tests.core.training.conftest import tiny_params

pytestmark = pytest.mark.filterwarnings("ignore")

REPLACED = """train:
  - type: VerticalFlip
    p: 1
  - type: InvertImg
    p: 1
"""


def _recorded(path):
    return yaml.safe_load(path.read_text())


@pytest.mark.slow
def test_files_edited_after_submit_do_not_change_the_queued_job(shapes_workspace):
    ws = shapes_workspace
    submitted = load_augments(ws.augments_file).model_dump(mode="json")
    job = submit_train(ws, "shapes", tiny_params(ws), start=False)
    assert job.augments == submitted
    assert set(job.registry["models"]) == {"simple_cnn"} and job.code

    # after submit: other augmentations, another learning rate, a broken registry
    ws.augments_file.write_text(REPLACED)
    ws.params_file.write_text(ws.params_file.read_text().replace("lr: 0.001", "lr: 0.5"))
    ws.registry_file.write_text(
        ws.registry_file.read_text().replace("simple_cnn.model:SimpleCNN", "gone.model:X")
    )

    assert Runner(ws, echo=lambda _line: None, poll_s=0.05).run() == 0
    done = JobQueue(ws).get(job.id)
    log = (ws.logs_dir / f"{job.id}.log").read_text()
    assert done.state == "finished", log
    assert f"experiment {job.experiment_id}: done" in log and "note:" not in log

    record = ws.experiment_dir(job.experiment_id) / "record"
    assert _recorded(record / "augments.yaml") == submitted
    assert _recorded(record / "params.yaml") == job.params
    assert job.params["lr"] == 0.01
    client = MlflowClient(ws.mlflow_tracking_uri)
    [run] = client.search_runs(
        [client.get_experiment_by_name("shapes").experiment_id],
        f"tags.job_id = '{job.id}'",
    )
    assert float(run.data.params["lr"]) == 0.01
    artifact = client.download_artifacts(run.info.run_id, "record/augments.yaml")
    assert yaml.safe_load(Path(artifact).read_text()) == submitted
