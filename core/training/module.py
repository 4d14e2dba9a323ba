"""The LightningModule for image classification: cross-entropy, accuracy per split,
the optimiser and learning-rate schedule named in the parameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor, nn


class ClassificationModule(pl.LightningModule):
    def __init__(
        self, net: nn.Module, params: Mapping[str, Any], class_names: Sequence[str]
    ) -> None:
        super().__init__()
        self.net = net
        self.params = dict(params)
        self.class_names = list(class_names)
        self.loss = nn.CrossEntropyLoss()
        self._sums: dict[str, Tensor] = {}  # per split: loss sum, correct, images

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

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
