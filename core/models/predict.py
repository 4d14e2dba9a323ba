"""Predict image files with a registered model version (the pyfunc model, so the same
preprocessing as in training): top-k classes and probabilities per image."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.errors import CockpitError
from core.models.catalog import resolve_version
from core.workspace import Workspace

PROB_PREFIX = "prob_"  # the served model's probability columns: prob_<class>


@dataclass(frozen=True)
class ImagePrediction:
    path: str
    label: str | None  # None: the file could not be read as an image (see error)
    probability: float | None
    top: list[tuple[str, float]] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PredictionReport:
    model: str
    version: str
    predictions: list[ImagePrediction]

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "version": self.version,
            "predictions": [p.to_dict() for p in self.predictions],
        }


def load_pyfunc(
    workspace: Workspace, spec: str, option: str | None = None
) -> tuple[Any, Any, list[str]]:
    """(version info, loaded pyfunc model, its class names) of NAME, NAME/V or NAME@ALIAS;
    ``option`` (e.g. ``--model``) names where the spec came from in the error line."""
    import mlflow

    version = resolve_version(workspace, spec)
    mlflow.set_tracking_uri(workspace.mlflow_tracking_uri)
    mlflow.set_registry_uri(workspace.mlflow_tracking_uri)
    try:
        model = mlflow.pyfunc.load_model(f"models:/{version.name}/{version.version}")
    except Exception as exc:
        where = f"{option} {version.spec}" if option else version.spec
        raise CockpitError(f"{where}: cannot load the model ({exc})") from exc
    classes = list(getattr(model.unwrap_python_model(), "class_names", []) or [])
    return version, model, classes


def _unreadable(path: Path) -> str | None:
    from PIL import Image

    if not path.is_file():
        return "no such file"
    try:
        with Image.open(path) as image:
            image.verify()
    except Exception as exc:
        return f"not a readable image ({exc})"
    return None


def predict_batch(model: Any, blobs: list[bytes]) -> tuple[Any, list[int], dict[int, str]]:
    """The pyfunc's frame for the images of a batch that it could predict, their positions,
    and for the others what was wrong: a batch the model refuses is predicted image by
    image, so one bad file (an undecodable one, a pixel format without a value range)
    costs one row, not the batch."""
    import pandas as pd

    try:
        return model.predict(pd.DataFrame({"image": blobs})), list(range(len(blobs))), {}
    except Exception:
        pass
    frames, kept, errors = [], [], {}
    for i, blob in enumerate(blobs):
        try:
            frames.append(model.predict(pd.DataFrame({"image": [blob]})))
        except Exception as exc:
            errors[i] = _one_line(exc)
            continue
        kept.append(i)
    return (pd.concat(frames, ignore_index=True) if frames else None), kept, errors


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text.removeprefix("row 0: ")


def predict_images(
    workspace: Workspace, spec: str, paths: list[Path], top_k: int = 3
) -> PredictionReport:
    """``spec``: NAME, NAME/VERSION or NAME@ALIAS. Unreadable files get an error entry
    instead of failing the whole batch."""
    if not paths:
        raise CockpitError("IMAGE: give at least one image file")
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise CockpitError(
            f"IMAGE: no such file: {', '.join(missing)}; check the path(s) and try again"
        )
    version, model, _classes = load_pyfunc(workspace, spec)
    problems = {str(p): _unreadable(Path(p)) for p in paths}
    readable = [str(p) for p in paths if problems[str(p)] is None]
    rows = {}
    if readable:
        # the served model reads no file paths (a scoring server must not): send the bytes
        frame, kept, errors = predict_batch(model, [Path(p).read_bytes() for p in readable])
        for position, error in errors.items():
            problems[readable[position]] = error
        predicted = [readable[i] for i in kept]
        frame_rows = [] if frame is None else [row for _, row in frame.iterrows()]
        classes = [] if frame is None else [c for c in frame.columns if c.startswith(PROB_PREFIX)]
        for path, row in zip(predicted, frame_rows, strict=True):
            ranked = sorted(
                ((c[len(PROB_PREFIX) :], float(row[c])) for c in classes), key=lambda t: -t[1]
            )
            rows[path] = ImagePrediction(
                path, str(row["label"]), float(row["probability"]), ranked[:top_k]
            )
    predictions = [
        rows.get(str(p)) or ImagePrediction(str(p), None, None, error=problems[str(p)])
        for p in paths
    ]
    return PredictionReport(version.name, version.version, predictions)
