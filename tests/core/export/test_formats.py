"""TorchScript and ONNX exports of a tiny CNN: written atomically, reloaded and checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch

from core.errors import CockpitError
from core.export import ExportCheck, export_onnx, export_torchscript

SHAPE = (3, 16, 16)


def tiny_cnn() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(4, 3),
    )


def batch_of(n: int) -> torch.Tensor:
    return torch.randn((n, *SHAPE), generator=torch.Generator().manual_seed(42))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_torchscript_export_reloads_with_any_batch_size(tmp_path: Path):
    model = tiny_cnn()
    target = tmp_path / "model.pt"

    check = export_torchscript(model, SHAPE, target)

    assert isinstance(check, ExportCheck)
    assert check.path == target and target.is_file()
    assert check.tolerance == 1e-4
    assert 0.0 <= check.max_abs_diff <= check.tolerance
    loaded = torch.jit.load(str(target))
    batch = batch_of(5)
    with torch.no_grad():
        assert torch.allclose(loaded(batch), model(batch), atol=1e-5)
    assert loaded(batch).shape == (5, 3)
    assert leftovers(tmp_path) == []


def test_onnx_export_runs_in_onnxruntime_with_any_batch_size(tmp_path: Path):
    model = tiny_cnn()
    target = tmp_path / "model.onnx"

    check = export_onnx(model, SHAPE, target)

    assert check.path == target and target.is_file()
    assert 0.0 <= check.max_abs_diff <= check.tolerance
    session = onnxruntime.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["image"]
    assert [o.name for o in session.get_outputs()] == ["logits"]
    batch = batch_of(5)
    (logits,) = session.run(["logits"], {"image": batch.numpy()})
    assert logits.shape == (5, 3)
    with torch.no_grad():
        np.testing.assert_allclose(logits, model(batch).numpy(), atol=1e-5)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("export", [export_torchscript, export_onnx])
def test_training_mode_is_restored(tmp_path: Path, export):
    model = tiny_cnn().train()
    export(model, SHAPE, tmp_path / "m.bin")
    assert model.training

    model.eval()
    export(model, SHAPE, tmp_path / "m.bin")
    assert not model.training


@pytest.mark.parametrize("export", [export_torchscript, export_onnx])
def test_mixed_training_modes_are_restored_per_module(tmp_path: Path, export):
    model = tiny_cnn().train()
    model[0].eval()
    export(model, SHAPE, tmp_path / "m.bin")
    assert [m.training for m in model] == [False, True, True, True, True]


@pytest.mark.parametrize("export", [export_torchscript, export_onnx])
def test_target_that_is_a_folder_is_a_cockpit_error(tmp_path: Path, export):
    target = tmp_path / "model.bin"
    target.mkdir()
    with pytest.raises(CockpitError, match="model.bin"):
        export(tiny_cnn(), SHAPE, target)
    assert target.is_dir()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("export", [export_torchscript, export_onnx])
def test_missing_parent_folders_are_created(tmp_path: Path, export):
    target = tmp_path / "not" / "there" / "yet" / "model.out"
    export(tiny_cnn(), SHAPE, target)
    assert target.is_file()


@pytest.mark.parametrize("export", [export_torchscript, export_onnx])
def test_failed_check_names_the_file_and_keeps_the_previous_export(tmp_path: Path, export):
    target = tmp_path / "exported-model.bin"
    target.write_bytes(b"previous export")

    with pytest.raises(CockpitError, match="exported-model.bin"):
        export(tiny_cnn(), SHAPE, target, tolerance=-1.0)

    assert target.read_bytes() == b"previous export"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("export", [export_torchscript, export_onnx])
def test_parent_that_is_a_file_is_a_cockpit_error(tmp_path: Path, export):
    blocker = tmp_path / "exports"
    blocker.write_text("a file, not a folder")
    model = tiny_cnn().train()
    with pytest.raises(CockpitError, match="exports"):
        export(model, SHAPE, blocker / "model.bin")
    assert model.training


@pytest.mark.parametrize("bad", [(3, 16), (3, 0, 16), (3, 16.0, 16), (True, 16, 16)])
def test_bad_input_shape_is_a_cockpit_error(tmp_path: Path, bad):
    with pytest.raises(CockpitError, match="input_shape"):
        export_torchscript(tiny_cnn(), bad, tmp_path / "model.pt")


def test_onnx_export_is_quiet(tmp_path: Path, capfd, recwarn):
    export_onnx(tiny_cnn(), SHAPE, tmp_path / "model.onnx")
    out, err = capfd.readouterr()
    assert out == ""
    assert err == ""
    assert [str(w.message) for w in recwarn] == []
