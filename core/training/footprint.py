"""What a network costs before it is trained: its parameters and the activations one image
produces, measured by running it on PyTorch's meta device (shapes only: no memory, no
weights, milliseconds), and from them estimates of training memory and checkpoint size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.config.params import ResolvedParams
from core.workspace import Workspace

BYTES = 4  # float32 weights, gradients, optimiser moments and activations
OPTIMISER_COPIES = {"adam": 2, "adamw": 2, "sgd": 1}  # moment buffers per parameter
CHECKPOINTS_KEPT = 2  # last + best
BACKWARD_FACTOR = 2  # activations kept for backward, plus their gradients


@dataclass(frozen=True)
class Footprint:
    parameters: int
    activations_per_image: int | None  # elements of every layer's output for one input
    optimiser: str = "adam"

    @property
    def weights_bytes(self) -> int:
        return self.parameters * BYTES

    def checkpoint_bytes(self) -> int:
        """One Lightning checkpoint: weights plus the optimiser's moments."""
        return self.weights_bytes * (1 + OPTIMISER_COPIES.get(self.optimiser, 2))

    def training_bytes(self, batch_size: int) -> int:
        """Weights, gradients, optimiser moments and a batch's activations."""
        state = self.weights_bytes * (2 + OPTIMISER_COPIES.get(self.optimiser, 2))
        activations = (self.activations_per_image or 0) * BYTES * BACKWARD_FACTOR * batch_size
        return state + activations

    def disk_bytes(self) -> int:
        """An experiment's files: kept checkpoints, the exported model (weights twice:
        the served model and ONNX) and the MLflow copies of both."""
        return CHECKPOINTS_KEPT * self.checkpoint_bytes() + 4 * self.weights_bytes


def build_meta_network(workspace: Workspace, params: ResolvedParams, num_classes: int) -> Any:
    import torch

    from core.registry import Registry

    registry = Registry(workspace, params.registry)
    choice = params.choice
    model_entry = registry.model(choice.model)
    adapter_entry = registry.adapter(choice.model, choice.adapter)
    adapter_cls = registry.load_object(
        adapter_entry.adapter, f"models.{choice.model}.adapters.{choice.adapter}.adapter"
    )
    model_cls = registry.load_object(model_entry.model, f"models.{choice.model}.model")
    adapter = adapter_cls(params.values)
    with torch.device("meta"):
        net = model_cls(params.values, **adapter.model_kwargs(max(2, num_classes)))
    return net, adapter


def measure(workspace: Workspace, params: ResolvedParams, num_classes: int) -> Footprint:
    """The footprint of the network ``params`` build for ``num_classes`` classes."""
    import torch

    net, adapter = build_meta_network(workspace, params, num_classes)
    parameters = int(sum(p.numel() for p in net.parameters()))
    produced = 0

    def count(_module: Any, _inputs: Any, output: Any) -> None:
        nonlocal produced
        if isinstance(output, torch.Tensor):
            produced += output.numel()

    leaves = [m for m in net.modules() if not list(m.children())]
    hooks = [m.register_forward_hook(count) for m in leaves]
    activations: int | None
    net.eval()  # shapes only; batch norm refuses one image in training mode
    try:
        with torch.no_grad():
            net(torch.empty((1, *adapter.input_shape()), device="meta"))
        activations = produced
    except Exception:  # a network that cannot run on meta tensors: parameters only
        activations = None
    finally:
        for hook in hooks:
            hook.remove()
    return Footprint(parameters, activations, str(params.values.get("optimizer", "adam")))
