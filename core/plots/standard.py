"""The standard figures of image classification, used by the example definitions:
sample grid per class, augmentation preview, confusion matrix, loss/accuracy curves."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.plots.base import BasePlot, PlotContext

SAMPLES_PER_CLASS = 8


def _train_dataset(context: PlotContext) -> Any:
    return context.experiment.datamodule.datasets["train"]


def _show(axis: Any, array: np.ndarray) -> None:
    if array.ndim == 3 and array.shape[2] == 1:
        axis.imshow(array[..., 0], cmap="gray", vmin=0, vmax=255)
    else:
        axis.imshow(array)
    axis.set_xticks([])
    axis.set_yticks([])


class SampleGridPlot(BasePlot):
    """A row of preprocessed training images per class: is the data what it should be?"""

    name = "sample_grid"
    title = "Training images per class (after preprocessing)"

    def figure_size(self, context: PlotContext) -> tuple[float, float]:
        rows = len(context.experiment.class_names)
        return (1.2 * SAMPLES_PER_CLASS + 1.5, 1.3 * rows + 0.6)

    def draw(self, context: PlotContext, figure: Any) -> None:
        dataset = _train_dataset(context)
        names = context.experiment.class_names
        axes = figure.subplots(len(names), SAMPLES_PER_CLASS, squeeze=False)
        for row, name in enumerate(names):
            items = [it for it in dataset.items if it.class_index == row][:SAMPLES_PER_CLASS]
            for column in range(SAMPLES_PER_CLASS):
                axis = axes[row][column]
                axis.axis("off")
                if column < len(items):
                    _show(axis, dataset.load_array(items[column]))
            axes[row][0].axis("on")
            axes[row][0].set_xticks([])
            axes[row][0].set_yticks([])
            axes[row][0].set_ylabel(name, rotation=0, ha="right", va="center")


class AugmentationPreviewPlot(BasePlot):
    """One training image and what the train transform makes of it, eight times."""

    name = "augmentation_preview"
    title = "Augmentation preview (train transform, de-normalised)"

    def figure_size(self, context: PlotContext) -> tuple[float, float]:
        return (11.0, 3.2)

    def draw(self, context: PlotContext, figure: Any) -> None:
        from core.training.transforms import normalisation

        dataset = _train_dataset(context)
        original = dataset.load_array(dataset.items[0])
        channels = original.shape[2]
        mean, std = (
            np.array(v).reshape(channels, 1, 1)
            for v in normalisation(context.experiment.augments, channels)
        )
        axes = figure.subplots(1, 9)
        _show(axes[0], original)
        axes[0].set_title("original", fontsize=9)
        for axis in axes[1:]:
            tensor = dataset.transform(original).numpy()
            if tensor.dtype == np.uint8:  # training batches are normalised on the device
                pixels = tensor
            else:
                pixels = np.clip((tensor * std + mean) * 255, 0, 255).astype(np.uint8)
            _show(axis, pixels.transpose(1, 2, 0))


class ConfusionMatrixPlot(BasePlot):
    """Counts of true vs predicted class on the test split (valid when there is no test)."""

    name = "confusion_matrix"
    needs_weights = True

    def figure_size(self, context: PlotContext) -> tuple[float, float]:
        size = 2.5 + 0.6 * len(context.experiment.class_names)
        return (size + 1, size)

    def draw(self, context: PlotContext, figure: Any) -> None:
        import torch

        experiment = context.experiment
        split = "test" if experiment.snapshot.split("test") else "valid"
        loader = (
            experiment.datamodule.test_dataloader()
            if split == "test"
            else experiment.datamodule.val_dataloader()
        )
        names = experiment.class_names
        matrix = np.zeros((len(names), len(names)), dtype=int)
        module = experiment.module.eval()
        with torch.inference_mode():
            for images, targets in loader:
                predicted = module(images).argmax(dim=1)
                for truth, guess in zip(targets.tolist(), predicted.tolist(), strict=True):
                    matrix[truth, guess] += 1
        axis = figure.subplots()
        axis.imshow(matrix, cmap="Blues")
        for (row, column), count in np.ndenumerate(matrix):
            colour = "white" if count > matrix.max() / 2 else "black"
            axis.text(column, row, str(count), ha="center", va="center", color=colour)
        axis.set_xticks(range(len(names)), names, rotation=45, ha="right")
        axis.set_yticks(range(len(names)), names)
        axis.set_xlabel("predicted")
        axis.set_ylabel("true")
        accuracy = np.trace(matrix) / max(1, matrix.sum())
        axis.set_title(f"Confusion matrix ({split} split, accuracy {accuracy:.1%})")


class TrainingCurvesPlot(BasePlot):
    """Loss and accuracy per epoch for train and valid, from the run's MLflow record."""

    name = "training_curves"
    title = "Loss and accuracy per epoch"

    def figure_size(self, context: PlotContext) -> tuple[float, float]:
        return (11.0, 4.0)

    def draw(self, context: PlotContext, figure: Any) -> None:
        loss_axis, accuracy_axis = figure.subplots(1, 2)
        for axis, metric in ((loss_axis, "loss"), (accuracy_axis, "acc")):
            for split in ("train", "valid"):
                history = context.metric_history(f"{split}_{metric}")
                if history:
                    epochs, values = zip(*sorted(history), strict=True)
                    axis.plot([e + 1 for e in epochs], values, marker="o", label=split)
            axis.set_xlabel("epoch")
            axis.set_ylabel(metric)
            axis.grid(alpha=0.3)
            axis.legend()
