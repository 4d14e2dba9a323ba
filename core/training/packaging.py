"""After training: export the best weights (TorchScript for serving, ONNX), log the pyfunc
model to the run and register it as ``{theme}_model``, and record Model/ModelTrainData."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from core.data.snapshot import DataSnapshot
from core.db import Model, ModelTrainData, open_database
from core.export import export_onnx, export_torchscript
from core.fileio import atomic_write_text
from core.mlflow_filter import model_versions
from core.training.builder import ExperimentContext
from core.training.preprocessing import PreprocessConfig
from core.training.pyfunc_model import SERVING_FILE
from core.training.tracking import tracking_client
from core.training.transforms import normalisation
from core.workspace import Workspace

SERVING_REQUIREMENTS = ["torch", "numpy", "pandas", "pillow", "albumentations", "mlflow"]


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


def export_model(ctx: ExperimentContext) -> PackagedModel:
    """TorchScript + ONNX of ``ctx.net`` (already holding the best weights), both checked
    against torch, and the serving settings the pyfunc model needs."""
    folder = ctx.experiment_dir / "model"
    folder.mkdir(parents=True, exist_ok=True)
    net = ctx.net.cpu().eval()
    shape = ctx.adapter.input_shape()
    torchscript = export_torchscript(net, shape, folder / "model.pt")
    onnx = export_onnx(net, shape, folder / "model.onnx")
    mean, std = normalisation(ctx.augments, shape[0])
    serving = {
        "class_names": list(ctx.class_names),
        "image_size": int(ctx.values["image_size"]),
        "mean": list(mean),
        "std": list(std),
        "preprocess": PreprocessConfig.from_params(ctx.values).to_dict(),
        "experiment_id": ctx.experiment_id,
    }
    atomic_write_text(folder / SERVING_FILE, json.dumps(serving, indent=2) + "\n")
    digest = hashlib.sha256(torchscript.path.read_bytes()).hexdigest()
    return PackagedModel(
        folder, torchscript.path, onnx.path, folder / SERVING_FILE, onnx.max_abs_diff, digest
    )


def log_model_to_run(
    workspace: Workspace, theme_name: str, run_id: str, op: dict[str, Any]
) -> None:
    """Journal op "model": log the pyfunc model and register it as a new version, once per
    distinct weights (replaying the op, or resuming, never registers twice)."""
    import mlflow

    from core.training.pyfunc_model import ImageClassifier

    client = tracking_client(workspace)
    name = registered_name(theme_name)
    digest = op["weights_digest"]
    for version in model_versions(client, name):
        if version.run_id == run_id and version.tags.get("weights_digest") == digest:
            return
    folder = Path(op["folder"])
    with mlflow.start_run(run_id=run_id):
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=ImageClassifier(),
            artifacts={
                "torchscript": str(folder / "model.pt"),
                "serving": str(folder / SERVING_FILE),
            },
            registered_model_name=name,
            pip_requirements=SERVING_REQUIREMENTS,
        )
        mlflow.log_artifact(str(folder / "model.onnx"), "export")
        mlflow.log_artifact(str(folder / "model.pt"), "export")
    client.set_model_version_tag(name, info.registered_model_version, "weights_digest", digest)
    client.set_model_version_tag(
        name, info.registered_model_version, "experiment_hash", op.get("experiment_id", "")
    )


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
