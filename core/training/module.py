"""The LightningModule for image classification: cross-entropy, accuracy per split,
the optimiser and learning-rate schedule named in the parameters.

Batches arrive as uint8 and are normalised here, on the device, to the exact float32
values the served model's preprocessing makes (``normalisation_table``): by two
elementwise operations, ``(x - 255 mean) * (1 / (255 std))``, where those reproduce the
table bit for bit (checked for all 256 values of each channel), else by looking each value
up in the table (ten times slower on a CPU; a sixth of a small network's epoch). On a
GPU, convolutional networks run channels-last; ``torch_compile`` compiles the network for
the fit (the exported model is the plain one, same weights)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from torch import Tensor, nn


class ClassificationModule(pl.LightningModule):
    def __init__(
        self,
        net: nn.Module,
        params: Mapping[str, Any],
        class_names: Sequence[str],
        normalisation: np.ndarray | None = None,
        mean_std: tuple[Sequence[float], Sequence[float]] | None = None,
    ) -> None:
        """``normalisation``: ``core.preprocessing.normalisation_table`` (channels x 256) for
        uint8 input; float input is taken as already normalised."""
        super().__init__()
        self.net = net
        self.params = dict(params)
        self.class_names = list(class_names)
        self.loss = nn.CrossEntropyLoss()
        self._sums: dict[str, Tensor] = {}  # per split: loss sum, correct, images
        table = torch.from_numpy(normalisation) if normalisation is not None else None
        # not persistent: checkpoints hold weights only, as before
        self.register_buffer("normalisation", table, persistent=False)
        affine = _exact_affine(table, mean_std) if table is not None and mean_std else None
        self.register_buffer("affine", affine, persistent=False)  # [offset, scale] x C
        self._compiled: Any = None  # torch.compile'd net, kept outside the module tree
        self._convolutional = any(isinstance(m, nn.Conv2d) for m in net.modules())

    def normalise(self, x: Tensor) -> Tensor:
        if x.dtype != torch.uint8:
            return x
        if self.normalisation is None:
            raise ValueError("uint8 images need a normalisation table")
        if self.affine is not None:
            channels = self.affine.shape[1]
            offset = self.affine[0].view(1, channels, 1, 1)
            scale = self.affine[1].view(1, channels, 1, 1)
            return (x.float() - offset) * scale
        channels = self.normalisation.shape[0]
        offsets = torch.arange(channels, device=x.device).view(1, channels, 1, 1) * 256
        return self.normalisation.view(-1)[x.long() + offsets]

    def forward(self, x: Tensor) -> Tensor:
        x = self.normalise(x)
        if x.is_cuda and self._convolutional:
            x = x.contiguous(memory_format=torch.channels_last)
        return (self._compiled if self._compiled is not None else self.net)(x)

    def on_fit_start(self) -> None:
        if self.device.type == "cuda" and self._convolutional:
            self.net.to(memory_format=torch.channels_last)
        if self.params.get("torch_compile") and self._compiled is None:
            object.__setattr__(self, "_compiled", torch.compile(self.net))

    def on_fit_end(self) -> None:
        object.__setattr__(self, "_compiled", None)

    def _step(self, batch: tuple[Tensor, Tensor], split: str, index: int, batches: Any) -> Tensor:
        images, targets = batch
        logits = self(images)
        loss = self.loss(logits, targets)
        # Sums stay on the device and are logged once, at the epoch's last batch: calling
        # self.log on every step costs more than a small network's forward pass.
        if index == 0 or split not in self._sums:
            self._sums[split] = torch.zeros(3, device=loss.device)
        count = targets.shape[0]
        correct = (logits.argmax(dim=1) == targets).sum()
        self._sums[split] += torch.stack(
            [loss.detach() * count, correct.float(), torch.tensor(float(count), device=loss.device)]
        )
        if index + 1 >= batches:
            loss_sum, correct_sum, seen = self._sums[split]
            shown = split != "test"
            self.log(f"{split}_loss", loss_sum / seen, on_epoch=True, batch_size=1, prog_bar=shown)
            self.log(
                f"{split}_acc", correct_sum / seen, on_epoch=True, batch_size=1, prog_bar=shown
            )
        return loss

    def training_step(self, batch: tuple[Tensor, Tensor], index: int) -> Tensor:
        return self._step(batch, "train", index, self.trainer.num_training_batches)

    def validation_step(self, batch: tuple[Tensor, Tensor], index: int) -> Tensor:
        return self._step(batch, "valid", index, self.trainer.num_val_batches[0])

    def test_step(self, batch: tuple[Tensor, Tensor], index: int) -> Tensor:
        return self._step(batch, "test", index, self.trainer.num_test_batches[0])

    def configure_optimizers(self) -> Any:
        p = self.params
        name, lr, decay = p["optimizer"], float(p["lr"]), float(p["weight_decay"])
        if name == "sgd":
            optimizer = torch.optim.SGD(
                self.parameters(), lr=lr, momentum=float(p["momentum"]), weight_decay=decay
            )
        elif name == "adamw":
            optimizer = torch.optim.AdamW(self.parameters(), lr=lr, weight_decay=decay)
        else:
            optimizer = torch.optim.Adam(self.parameters(), lr=lr, weight_decay=decay)
        schedule = p["scheduler"]
        if schedule == "cosine":
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
                optimizer, T_max=max(1, int(p["max_epochs"]))
            )
        elif schedule == "step":
            scheduler = torch.optim.lr_scheduler.StepLR(
                optimizer, step_size=max(1, int(p["max_epochs"]) // 3), gamma=0.1
            )
        elif schedule == "plateau":
            scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=2)
            return {
                "optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "monitor": "valid_loss"},
            }
        else:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": scheduler}


def _exact_affine(
    table: Tensor, mean_std: tuple[Sequence[float], Sequence[float]]
) -> Tensor | None:
    """``[255 mean, 1 / (255 std)]`` per channel (float32) when ``(v - offset) * scale``
    equals ``table`` for every uint8 value ``v`` of every channel; None otherwise."""
    mean, std = mean_std
    if len(mean) != table.shape[0] or len(std) != table.shape[0]:
        return None
    offset = torch.tensor(mean, dtype=torch.float32) * 255
    scale = 1 / (torch.tensor(std, dtype=torch.float32) * 255)
    values = torch.arange(256, dtype=torch.float32).view(1, 256)
    made = (values - offset.view(-1, 1)) * scale.view(-1, 1)
    if not torch.equal(made, table.to(torch.float32)):
        return None
    return torch.stack([offset, scale])
