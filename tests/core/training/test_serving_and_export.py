"""A trained, registered model: exported from the CLI, served over HTTP, and the job
entry point the runner uses."""

import base64
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import onnxruntime
import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image

from cockpit.cli import cli
from core.config import parse_overrides, resolve_params
from core.data.importer import import_images
from core.data.themes import create_theme
from core.db import open_database
from core.demo import write_demo_images
from core.scaffold import init_workspace
from core.training.run import train_experiment
from tests.core.training.conftest import TINY

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("trained")
    ws = init_workspace(root / "ws").workspace
    write_demo_images(root / "shapes", per_class=10, size=16, seed=5)
    db = open_database(ws)
    create_theme(db, "shapes")
    import_images(db, ws, "shapes", [root / "shapes"])
    params = resolve_params(ws, overrides=parse_overrides(TINY))
    train_experiment(ws, "shapes", params, echo=lambda _line: None)
    return ws, root / "shapes"


def test_cli_export_writes_checked_onnx_and_torchscript(trained, tmp_path):
    ws, _ = trained
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "-w",
            str(ws.root),
            "export",
            "--model",
            "shapes_model/1",
            "--format",
            "onnx",
            "--output",
            str(tmp_path / "m.onnx"),
        ],
    )
    assert result.exit_code == 0, result.output
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"))
    logits = session.run(None, {"image": np.zeros((4, 3, 16, 16), np.float32)})[0]
    assert logits.shape == (4, 3)
    # the file says what its outputs are and what input it takes
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["class_names"]) == ["circle", "square", "triangle"]
    assert json.loads(meta["input_shape"]) == [None, 3, 16, 16]
    normalization = json.loads(meta["normalization"])
    assert len(normalization["mean"]) == len(normalization["std"]) == 3
    assert meta["image_mode"] == "RGB"
    result = runner.invoke(
        cli,
        [
            "-w",
            str(ws.root),
            "export",
            "--model",
            "shapes_model",
            "--format",
            "torchscript",
            "--output",
            str(tmp_path / "m.pt"),
        ],
    )
    assert result.exit_code == 0 and (tmp_path / "m.pt").stat().st_size > 0
    missing = runner.invoke(
        cli, ["-w", str(ws.root), "export", "--model", "shapes_model/9", "--format", "onnx"]
    )
    assert missing.exit_code == 2 and "has no version 9; versions: 1" in missing.output


def encoded_png(side, seed):
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def invoke(port, images):
    body = json.dumps({"dataframe_split": {"columns": ["image"], "data": [[i] for i in images]}})
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations", body.encode(), {"Content-Type": "application/json"}
    )
    return json.loads(urllib.request.urlopen(request, timeout=30).read())


PROJECT = Path(__file__).resolve().parents[3]
BLOCK_PROJECT = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("core", "cockpit", "definitions"):
            raise ImportError(f"{name}: the project is not installed here")
sys.meta_path.insert(0, Block())
"""


def test_logged_model_loads_and_predicts_where_the_project_is_not_installed(trained, tmp_path):
    """The registered model's folder alone (no pickle of our classes, its preprocessing
    beside it) loads and predicts in a Python that cannot import this project."""
    import mlflow

    ws, images = trained
    mlflow.set_tracking_uri(ws.mlflow_tracking_uri)
    folder = mlflow.artifacts.download_artifacts("models:/shapes_model/1", dst_path=str(tmp_path))
    files = sorted((images / "circle").iterdir())[:3]
    expected = mlflow.pyfunc.load_model(folder).predict(
        pd.DataFrame({"image": [f.read_bytes() for f in files]})
    )
    script = (
        BLOCK_PROJECT
        + f"""
import base64, json, mlflow.pyfunc, pandas as pd
try:
    import core
except ImportError:
    pass
else:
    raise SystemExit("the project is importable: this test proves nothing")
files = {[str(f) for f in files]!r}
model = mlflow.pyfunc.load_model({folder!r})
text = model.predict(pd.DataFrame({{"image": [base64.b64encode(open(f, "rb").read()).decode()
                                            for f in files]}}))
raw = model.predict(pd.DataFrame({{"image": [open(f, "rb").read() for f in files]}}))
import sys
loaded = [m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", None)]
ours = [f for f in loaded if f.startswith({str(PROJECT)!r}) and not f.startswith(sys.prefix)]
assert not ours, f"project code was loaded: {{ours}}"
print(json.dumps([text["label"].tolist(), raw["probability"].tolist()]))
"""
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    labels, probabilities = json.loads(done.stdout.strip().splitlines()[-1])
    assert labels == expected["label"].tolist()
    assert probabilities == pytest.approx(expected["probability"].tolist(), abs=1e-6)


def test_served_model_answers_http_requests(trained):
    ws, images = trained
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": ws.mlflow_tracking_uri,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "models",
            "serve",
            "--env-manager",
            "local",
            "-m",
            "models:/shapes_model/1",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                assert server.poll() is None, "mlflow models serve exited"
                time.sleep(0.5)
        # images of several sizes: base64 text of 256-4095 characters was once probed as a
        # file path ("File name too long")
        sent = [encoded_png(side, seed) for seed, side in enumerate((4, 12, 16, 30, 64, 200))]
        assert any(256 <= len(text) < 4096 for text in sent)
        assert any(len(text) >= 4096 for text in sent)
        answer = invoke(port, sent)
        assert len(answer["predictions"]) == len(sent)
        for prediction in answer["predictions"]:
            assert prediction["label"] in {"circle", "square", "triangle"}
            assert abs(sum(v for k, v in prediction.items() if k.startswith("prob_")) - 1) < 1e-4

        # a path on the server's disk is never read for a client
        secret = next((images / "square").iterdir())
        with pytest.raises(urllib.error.HTTPError) as refused:
            invoke(port, [str(secret)])
        assert refused.value.code == 400
        assert "base64" in refused.value.read().decode()
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def test_job_entry_point_runs_frozen_parameters(trained, tmp_path):
    ws, _ = trained
    params = resolve_params(ws, overrides=parse_overrides(TINY))
    job = {
        "workspace": str(ws.root),
        "theme": "shapes",
        "id": "j1",
        "kind": "train",
        "params": json.loads(json.dumps(params.values)),
    }
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job))
    ws.params_file.write_text("lr: 0.5\n")  # a later edit must not change a queued job
    done = subprocess.run(
        [sys.executable, "-m", "core.jobs.train", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "already complete" in done.stdout
    job["params"]["lr"] = -1
    path.write_text(json.dumps(job))
    bad = subprocess.run(
        [sys.executable, "-m", "core.jobs.train", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2
    assert "error: job j1: lr: Input should be greater than 0" in bad.stderr


def test_plot_job_restores_the_experiment_and_renders_every_layer(trained):
    from mlflow.tracking import MlflowClient
    from PIL import Image

    from core.errors import CockpitError
    from core.plots.run import plot_experiment

    ws, _ = trained
    [experiment_id] = [p.name for p in ws.experiments_dir.iterdir()]
    written = plot_experiment(ws, experiment_id, echo=lambda _line: None)
    assert sorted(p.name for p in written) == [
        "adapter_augmentation_preview.png",
        "dataset_sample_grid.png",
        "model_confusion_matrix.png",
        "model_training_curves.png",
    ]
    for path in written:
        with Image.open(path) as image:
            assert image.width > 300 and len(image.convert("L").getcolors(1 << 20)) > 10
    run_id = json.loads((ws.experiment_dir(experiment_id) / "mlflow_run.json").read_text())[
        "run_id"
    ]
    logged = {a.path for a in MlflowClient(ws.mlflow_tracking_uri).list_artifacts(run_id, "plots")}
    assert "plots/model_confusion_matrix.png" in logged
    with pytest.raises(CockpitError, match="unknown plot"):
        plot_experiment(ws, experiment_id, only=["histogram"], echo=lambda _line: None)
    with pytest.raises(CockpitError, match="has no record"):
        plot_experiment(ws, "000000000000", echo=lambda _line: None)
