"""The example models build through their adapters and classify a tiny batch."""

import pytest
import torch

from core.config import parse_overrides, resolve_params
from core.errors import CockpitError
from core.registry import Registry


def build(workspace, *sets, num_classes=3):
    resolved = resolve_params(workspace, overrides=parse_overrides(sets))
    registry = Registry.from_workspace(workspace)
    choice = resolved.choice
    entry = registry.model(choice.model)
    adapter_cls = registry.load_object(entry.adapters[choice.adapter].adapter, "adapter")
    model_cls = registry.load_object(entry.model, "model")
    adapter = adapter_cls(resolved.values)
    return adapter, model_cls(resolved.values, **adapter.model_kwargs(num_classes))


@pytest.mark.parametrize(
    "sets",
    [
        ("image_size=16",),
        ("image_size=40", "image_mode=L", "dropout=0.5"),
        ("model=resnet", "image_size=32"),
        ("model=resnet", "image_size=48", "image_mode=L"),
    ],
)
def test_model_output_has_one_logit_per_class(workspace, sets):
    adapter, model = build(workspace, *sets)
    batch = torch.rand(2, *adapter.input_shape())
    model.eval()
    with torch.no_grad():
        assert model(batch).shape == (2, 3)


def test_adapter_refuses_a_single_class(workspace):
    adapter, _ = build(workspace)
    with pytest.raises(CockpitError, match="at least 2 labels"):
        adapter.model_kwargs(1)


def test_resnet_loads_local_weights_and_refuses_missing_ones(workspace, tmp_path):
    import torchvision

    weights = tmp_path / "r18.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), weights)
    _, model = build(workspace, "model=resnet", f"weights_path={weights}")
    assert model.net.fc.out_features == 3
    with pytest.raises(CockpitError, match="does not exist.*never downloaded"):
        build(workspace, "model=resnet", f"weights_path={tmp_path / 'missing.pth'}")
