"""Export a trained model to TorchScript or ONNX and prove the file computes what the model does.

Each export is written to a temporary file next to the target, reloaded and run on a batch of
a different size from the one used for tracing, so a batch size baked into the graph is caught
before the file replaces an earlier good export.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.errors import CockpitError
from core.fileio import replace_durably

__all__ = ["ExportCheck", "export_onnx", "export_torchscript"]

_TRACE_BATCH = 2
_CHECK_BATCH = 3  # differs from _TRACE_BATCH so a traced-in batch size fails the check
_TRACE_SEED = 0
_CHECK_SEED = 1


@dataclass(frozen=True)
class ExportCheck:
    path: Path
    max_abs_diff: float  # max |exported output - torch output| on the check batch
    tolerance: float


def export_torchscript(
    model: torch.nn.Module,
    input_shape: tuple[int, int, int],
    path: Path,
    *,
    tolerance: float = 1e-4,
) -> ExportCheck:
    """Trace ``model`` in eval mode, save it to ``path`` and check the reloaded file."""
    path = Path(path)
    shape = _checked_shape(input_shape)

    def write(tmp: Path, example: torch.Tensor) -> None:
        traced = torch.jit.trace(model, example)
        torch.jit.save(traced, str(tmp))

    def run(tmp: Path, batch: torch.Tensor) -> np.ndarray:
        loaded = torch.jit.load(str(tmp), map_location=batch.device)
        with torch.no_grad():
            return _as_numpy(loaded(batch), path)

    return _export(model, shape, path, tolerance, "TorchScript", write, run)


def export_onnx(
    model: torch.nn.Module,
    input_shape: tuple[int, int, int],
    path: Path,
    *,
    tolerance: float = 1e-4,
    opset: int = 17,
    metadata: Mapping[str, str] | None = None,
) -> ExportCheck:
    """Export ``model`` to ONNX (input "image", output "logits", any batch size) and check it
    with onnx's checker and onnxruntime on the CPU. ``metadata`` goes into the file's
    ``metadata_props`` (what a consumer needs: class names, input size, normalisation)."""
    import onnx
    import onnxruntime

    path = Path(path)
    shape = _checked_shape(input_shape)

    def write(tmp: Path, example: torch.Tensor) -> None:
        # The TorchScript-based exporter keeps the requested opset and needs no onnxscript;
        # the torch.export-based one raises opset 17 to 18 and logs at length while doing so.
        torch.onnx.export(
            model,
            (example,),
            str(tmp),
            input_names=["image"],
            output_names=["logits"],
            dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=opset,
            dynamo=False,
        )
        if metadata:
            proto = onnx.load(str(tmp))
            onnx.helper.set_model_props(proto, dict(metadata))
            onnx.save(proto, str(tmp))
        try:
            onnx.checker.check_model(str(tmp))
        except onnx.checker.ValidationError as exc:
            raise CockpitError(
                f"the ONNX file exported for {path} is invalid ({_first_line(exc)}); "
                "try another opset or export TorchScript instead"
            ) from exc

    def run(tmp: Path, batch: torch.Tensor) -> np.ndarray:
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only: onnxruntime warns about unused initializers
        session = onnxruntime.InferenceSession(
            str(tmp), sess_options=options, providers=["CPUExecutionProvider"]
        )
        (logits,) = session.run(["logits"], {"image": batch.detach().cpu().numpy()})
        return np.asarray(logits)

    return _export(model, shape, path, tolerance, "ONNX", write, run)


def _export(
    model: torch.nn.Module,
    shape: tuple[int, int, int],
    path: Path,
    tolerance: float,
    what: str,
    write: Callable[[Path, torch.Tensor], None],
    run: Callable[[Path, torch.Tensor], np.ndarray],
) -> ExportCheck:
    device = _device_of(model)
    example = _random_batch(_TRACE_BATCH, shape, _TRACE_SEED, device)
    check = _random_batch(_CHECK_BATCH, shape, _CHECK_SEED, device)
    tmp = _temp_next_to(path)
    # Per module, because a model may keep some layers (e.g. frozen batch norm) in eval mode
    # while training, and model.train(True) would flip those too.
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with _quiet():
            try:
                write(tmp, example)
            except CockpitError:
                raise
            except OSError as exc:
                raise CockpitError(
                    f"cannot write {path}: {exc.strerror or exc} "
                    "(check free disk space and permissions)"
                ) from exc
            except Exception as exc:
                raise CockpitError(
                    f"cannot export the model to {what} for {path}: {_first_line(exc)}; "
                    "the model uses something the exporter does not support"
                ) from exc
            with torch.no_grad():
                expected = _as_numpy(model(check), path)
            try:
                got = run(tmp, check)
            except CockpitError:
                raise
            except Exception as exc:
                raise CockpitError(
                    f"the exported {what} file for {path} does not run: {_first_line(exc)}; "
                    "the model uses something the runtime does not support"
                ) from exc
        if got.shape != expected.shape:
            raise CockpitError(
                f"{what} export {path.name} gives output shape {got.shape} for a batch of "
                f"{_CHECK_BATCH}, the model {expected.shape}; the file was not written to {path}"
            )
        diff = _max_abs_diff(got, expected)
        # `not <=` so that a NaN difference fails too
        if not diff <= tolerance:
            raise CockpitError(
                f"{what} export {path.name} differs from the model by {diff:.3g} "
                f"(tolerance {tolerance:g}); the file was not written to {path}"
            )
        try:
            replace_durably(tmp, path)
        except OSError as exc:
            raise CockpitError(
                f"cannot write {path}: {exc.strerror or exc} (check that it is not a folder "
                "and that you may write there)"
            ) from exc
    finally:
        tmp.unlink(missing_ok=True)
        for module, training in modes:
            module.training = training
    return ExportCheck(path=path, max_abs_diff=diff, tolerance=tolerance)


def _checked_shape(input_shape: tuple[int, int, int]) -> tuple[int, int, int]:
    values = tuple(input_shape)
    if len(values) != 3 or not all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values
    ):
        raise CockpitError(
            f"input_shape {input_shape!r} must be three positive integers (channels, height, "
            "width), e.g. (3, 224, 224)"
        )
    return values  # type: ignore[return-value]


def _device_of(model: torch.nn.Module) -> torch.device:
    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return torch.device("cpu")


def _random_batch(
    batch: int, shape: tuple[int, int, int], seed: int, device: torch.device
) -> torch.Tensor:
    # Drawn on the CPU so the same seed gives the same batch whatever device the model is on.
    generator = torch.Generator().manual_seed(seed)
    return torch.randn((batch, *shape), generator=generator, dtype=torch.float32).to(device)


def _temp_next_to(path: Path) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise CockpitError(
            f"cannot write {path}: {exc.strerror or exc} (check the folder and its permissions)"
        ) from exc
    os.close(fd)
    return Path(name)


def _as_numpy(output: object, source: Path) -> np.ndarray:
    if not isinstance(output, torch.Tensor):
        raise CockpitError(
            f"cannot check {source.name}: the model returns {type(output).__name__}, "
            "not one tensor of logits; export a model whose forward returns a tensor"
        )
    return output.detach().float().cpu().numpy()


def _max_abs_diff(got: np.ndarray, expected: np.ndarray) -> float:
    if got.size == 0:
        return 0.0
    return float(np.max(np.abs(got.astype(np.float64) - expected.astype(np.float64))))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def _quiet() -> Iterator[None]:
    # Torch marks both jit tracing and the TorchScript-based ONNX exporter as deprecated on
    # every call; those notices say nothing about this model. Tracer warnings stay visible.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield
