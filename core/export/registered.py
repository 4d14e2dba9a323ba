"""``cockpit export --model NAME[/VERSION] --format onnx|torchscript``: a registered model
version's exported file, checked again before it is handed over."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from core.errors import CockpitError
from core.mlflow_filter import model_versions
from core.workspace import Workspace

FILES = {"onnx": "model.onnx", "torchscript": "model.pt"}
TOLERANCE = 1e-4


def _resolve_version(client, spec: str) -> tuple[str, str, str]:
    name, _, version = spec.partition("/")
    try:
        versions = model_versions(client, name)
    except Exception as exc:
        raise CockpitError(f"--model: cannot read the model registry: {exc}") from exc
    if not versions:
        known = sorted(m.name for m in client.search_registered_models())
        raise CockpitError(
            f"--model: no registered model {name!r}; registered: {', '.join(known) or 'none yet'}"
        )
    if not version or version == "latest":
        chosen = max(versions, key=lambda v: int(v.version))
    else:
        chosen = next((v for v in versions if str(v.version) == version), None)
        if chosen is None:
            listed = ", ".join(str(n) for n in sorted(int(v.version) for v in versions))
            raise CockpitError(f"--model: {name} has no version {version}; versions: {listed}")
    return name, str(chosen.version), chosen.run_id


def _check_against_torchscript(onnx_path: Path, torchscript_path: Path) -> float:
    import onnxruntime
    import torch

    net = torch.jit.load(str(torchscript_path), map_location="cpu").eval()
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    shape = [dim if isinstance(dim, int) else 2 for dim in session.get_inputs()[0].shape]
    batch = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    expected = net(torch.from_numpy(batch)).detach().numpy()
    got = session.run(None, {session.get_inputs()[0].name: batch})[0]
    return float(np.abs(got - expected).max())


def export_registered(
    workspace: Workspace, spec: str, fmt: str, output: Path | None = None
) -> tuple[Path, str]:
    """Copy the version's exported file to ``output``; returns (path, a check summary)."""
    from mlflow.artifacts import download_artifacts

    from core.training.tracking import tracking_client

    if fmt not in FILES:
        raise CockpitError(f"--format: choose onnx or torchscript, not {fmt!r}")
    client = tracking_client(workspace)
    name, version, run_id = _resolve_version(client, spec)
    suffix = Path(FILES[fmt]).suffix
    target = Path(output) if output else Path.cwd() / f"{name}-v{version}{suffix}"
    with tempfile.TemporaryDirectory() as tmp:
        fetched = {}
        for key, file in FILES.items():
            try:
                fetched[key] = Path(
                    download_artifacts(
                        run_id=run_id,
                        artifact_path=f"export/{file}",
                        dst_path=tmp,
                        tracking_uri=workspace.mlflow_tracking_uri,
                    )
                )
            except Exception as exc:
                raise CockpitError(
                    f"{name} version {version}: exported file {file} is missing from run "
                    f"{run_id} ({exc}); retrain to package it again"
                ) from exc
        diff = _check_against_torchscript(fetched["onnx"], fetched["torchscript"])
        if diff > TOLERANCE:
            raise CockpitError(
                f"{name} version {version}: ONNX and TorchScript outputs differ by {diff:.2e} "
                f"(> {TOLERANCE}); the export is not trustworthy"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(fetched[fmt], target)
    summary = json.dumps(
        {
            "model": name,
            "version": version,
            "run_id": run_id,
            "onnx_vs_torchscript_max_abs_diff": diff,
        }
    )
    return target, summary
