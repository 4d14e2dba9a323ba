"""After training: export the best weights (TorchScript for serving, ONNX), log the pyfunc
model to the run and register it as ``{theme}_model``, and record Model/ModelTrainData."""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from core.data.snapshot import DataSnapshot
from core.db import Model, ModelTrainData, open_database
from core.fileio import atomic_write_text
from core.mlflow_filter import model_versions
from core.preprocessing import PreprocessConfig
from core.training.builder import ExperimentContext
from core.training.tracking import run_tags, tracking_client
from core.training.transforms import normalisation
from core.training.versions import (
    METRIC_TAG,
    REGISTERED_VERSION_TAG,
    registry_metric,
    version_metrics,
)
from core.workspace import Workspace

SERVING_REQUIREMENTS = ["torch", "numpy", "pandas", "pillow", "albumentations", "mlflow"]
SERVING_FILE = "serving.json"  # the settings served_model.py reads (an artifact)
SERVED_MODEL = Path(__file__).with_name("served_model.py")  # imports nothing of ours


@dataclass(frozen=True)
class PackagedModel:
    folder: Path
    torchscript: Path
    onnx: Path
    serving: Path
    onnx_max_diff: float
    weights_digest: str  # SHA-256 of model.pt: one registered version per distinct weights


def registered_name(theme_name: str) -> str:
    return f"{theme_name}_model"


def onnx_metadata(serving: dict[str, Any], shape: tuple[int, ...]) -> dict[str, str]:
    """What a consumer of the ONNX file needs besides the graph (its ``metadata_props``):
    the classes in output order, the input layout and size, the pixel normalisation and
    the preprocessing, each value JSON text."""
    return {
        "class_names": json.dumps(serving["class_names"]),
        "input_layout": "NCHW float32",
        "input_shape": json.dumps([None, *shape]),
        "image_mode": serving["preprocess"]["image_mode"],
        "normalization": json.dumps(
            {"mean": serving["mean"], "std": serving["std"], "max_pixel_value": 255.0}
        ),
        "preprocess": json.dumps(serving["preprocess"], sort_keys=True),
        "experiment_id": serving["experiment_id"],
    }


def export_model(ctx: ExperimentContext) -> PackagedModel:
    """TorchScript + ONNX of ``ctx.net`` (already holding the best weights), both checked
    against torch, and the serving settings the pyfunc model needs."""
    # imported here: recording an already complete experiment needs no torch
    from core.export import export_onnx, export_torchscript

    folder = ctx.experiment_dir / "model"
    folder.mkdir(parents=True, exist_ok=True)
    net = ctx.net.cpu().eval()
    shape = ctx.adapter.input_shape()
    mean, std = normalisation(ctx.augments, shape[0])
    serving = {
        "class_names": list(ctx.class_names),
        "image_size": int(ctx.values["image_size"]),
        "mean": list(mean),
        "std": list(std),
        "preprocess": PreprocessConfig.from_params(ctx.values).to_dict(),
        "experiment_id": ctx.experiment_id,
    }
    torchscript = export_torchscript(net, shape, folder / "model.pt")
    onnx = export_onnx(net, shape, folder / "model.onnx", metadata=onnx_metadata(serving, shape))
    atomic_write_text(folder / SERVING_FILE, json.dumps(serving, indent=2) + "\n")
    digest = hashlib.sha256(torchscript.path.read_bytes()).hexdigest()
    return PackagedModel(
        folder, torchscript.path, onnx.path, folder / SERVING_FILE, onnx.max_abs_diff, digest
    )


@dataclass(frozen=True)
class RegistryDecision:
    register: bool
    reason: str


def decide_registration(
    policy: str, metrics: dict[str, float], versions: list[Any], runs: dict[str, Any]
) -> RegistryDecision:
    """Whether a training with ``metrics`` becomes a new version under ``policy``
    (``better``, ``always``, ``never``), with the reason in words."""
    if policy == "never":
        return RegistryDecision(False, "not registered (registration: never)")
    if policy == "always" or not versions:
        return RegistryDecision(True, "registered" if versions else "the theme's first version")
    key = registry_metric(metrics)
    if key is None:
        return RegistryDecision(False, "not registered: no accuracy was measured to compare")
    best, best_version = None, None
    for version in versions:
        run = runs.get(version.run_id)
        value = version_metrics(version, run.data.metrics if run else None).get(key)
        if value is not None and (best is None or value > best):
            best, best_version = value, version.version
    if best is None or metrics[key] > best:
        shown = f"{best:.4f}, version {best_version}" if best is not None else "none measured"
        return RegistryDecision(True, f"{key} {metrics[key]:.4f} beats the best ({shown})")
    return RegistryDecision(
        False,
        f"not registered: {key} {metrics[key]:.4f} does not beat version {best_version} "
        f"({best:.4f}); set registration: always to register every training",
    )


def log_model_to_run(
    workspace: Workspace, theme_name: str, run_id: str, op: dict[str, Any]
) -> None:
    """Journal op "model": log the pyfunc model to the run and, as the op's ``register``
    policy decides, register it as a new version. Weights already registered (any run:
    replaying the op, resuming, an "already complete" rerun) never make a second version."""
    import mlflow

    import core.preprocessing

    client = tracking_client(workspace)
    name = registered_name(theme_name)
    digest = op["weights_digest"]
    metrics = {k: float(v) for k, v in (op.get("metrics") or {}).items()}
    try:
        versions = list(model_versions(client, name))
    except Exception:  # no registered model of that name yet
        versions = []
    same = [v for v in versions if v.tags.get("weights_digest") == digest]
    if same:
        mine = [v for v in same if v.run_id == run_id]
        if mine:  # a replay after a kill between registering and tagging the run
            client.set_tag(run_id, REGISTERED_VERSION_TAG, str(mine[0].version))
        return
    runs = {}
    for version in versions:
        with contextlib.suppress(Exception):  # a deleted source run: its tags still count
            runs[version.run_id] = client.get_run(version.run_id)
    decision = decide_registration(op.get("register", "always"), metrics, versions, runs)
    client.set_tag(run_id, "registry_decision", decision.reason)
    folder = Path(op["folder"])
    with mlflow.start_run(run_id=run_id):
        info = mlflow.pyfunc.log_model(
            name="model",
            # logged as code with its preprocessing beside it: no pickle, no project needed
            python_model=str(SERVED_MODEL),
            code_paths=[core.preprocessing.__file__],
            artifacts={
                "torchscript": str(folder / "model.pt"),
                "serving": str(folder / SERVING_FILE),
            },
            pip_requirements=SERVING_REQUIREMENTS,
        )
        mlflow.log_artifact(str(folder / "model.onnx"), "export")
        mlflow.log_artifact(str(folder / "model.pt"), "export")
    if not decision.register:
        client.set_tag(run_id, REGISTERED_VERSION_TAG, "")
        return
    # the version and its tags in one transaction: a kill after it leaves a version that
    # the digest check above finds, a kill before it leaves none (never one without tags)
    tags = {"weights_digest": digest, "experiment_hash": op.get("experiment_id", "")}
    # the metrics of these weights, fixed now: a later resume of the run changes the run's
    # metrics, never what this version was registered with
    tags.update({f"{METRIC_TAG}{key}": repr(float(value)) for key, value in metrics.items()})
    version = mlflow.register_model(info.model_uri, name, tags=tags)
    client.set_tag(run_id, REGISTERED_VERSION_TAG, str(version.version))


def registry_decision(workspace: Workspace, run_id: str) -> tuple[str | None, str | None]:
    """What the registration policy decided for the run's latest weights: the version they
    became ("" when none; None for runs from before the policy) and why, in words."""
    try:
        tags = run_tags(workspace, run_id)
    except Exception:
        return None, None
    return tags.get(REGISTERED_VERSION_TAG), tags.get("registry_decision")


def latest_version(workspace: Workspace, theme_name: str, run_id: str) -> str | None:
    client = tracking_client(workspace)
    versions = [
        v for v in model_versions(client, registered_name(theme_name)) if v.run_id == run_id
    ]
    return str(max(int(v.version) for v in versions)) if versions else None


def record_model(
    workspace: Workspace,
    snapshot: DataSnapshot,
    experiment_id: str,
    run_id: str,
    metrics: dict[str, float],
) -> None:
    """The Model row of this run and the images it was trained on (ModelTrainData)."""
    db = open_database(workspace)
    with db.session() as session:
        model = session.scalar(select(Model).where(Model.mlflow_run_id == run_id))
        if model is None:
            model = Model(
                theme_id=snapshot.theme_id,
                mlflow_run_id=run_id,
                experiment_hash=experiment_id,
            )
            session.add(model)
        model.metrics_json = json.dumps(metrics, sort_keys=True)
        session.flush()
        session.execute(delete(ModelTrainData).where(ModelTrainData.model_id == model.id))
        session.execute(
            ModelTrainData.__table__.insert(),
            [{"model_id": model.id, "train_data_id": i} for i in snapshot.train_data_ids],
        )
