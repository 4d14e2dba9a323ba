"""The served model: an ``mlflow.pyfunc.PythonModel`` that applies the training run's
preprocessing before predicting (seed 000: the client sends plain images).

Input: a pandas DataFrame with a column ``image`` holding base64-encoded image file
bytes, raw bytes, or file paths; from Python also a numpy uint8 batch (N, H, W, C) or a
list of HxWxC arrays. Output: a DataFrame with ``label``, ``probability`` and one
``prob_<class>`` column per class.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import warnings
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
from PIL import Image

from core.training.preprocessing import (
    PreprocessConfig,
    correct_brightness,
    load_image_array,
    patch,
)

SERVING_FILE = "serving.json"


def _decode(value: Any, row: int) -> Image.Image:
    if isinstance(value, bytes | bytearray):
        data = bytes(value)
    elif isinstance(value, str):
        candidate = Path(value)
        if len(value) < 4096 and candidate.is_file():
            data = candidate.read_bytes()
        else:
            try:
                data = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError(
                    f"row {row}: 'image' is neither an existing file path nor base64 image bytes"
                ) from None
    else:
        raise ValueError(f"row {row}: 'image' must be base64 text, bytes or a path")
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:
        raise ValueError(f"row {row}: not a readable image ({exc})") from exc
    return image


class ImageClassifier(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        import torch

        from core.training.transforms import ImageTransform, eval_steps

        serving = json.loads(Path(context.artifacts["serving"]).read_text())
        self.class_names: list[str] = serving["class_names"]
        self.preprocess = PreprocessConfig(**serving["preprocess"])
        self.transform = ImageTransform(
            eval_steps(serving["image_size"], serving["mean"], serving["std"])
        )
        with warnings.catch_warnings():  # TorchScript is deprecated upstream, still supported
            warnings.simplefilter("ignore", FutureWarning)
            self.net = torch.jit.load(context.artifacts["torchscript"], map_location="cpu")
        self.net.eval()

    def _arrays(self, model_input: Any) -> list[np.ndarray]:
        mode = self.preprocess.image_mode
        if isinstance(model_input, np.ndarray) and model_input.ndim in (3, 4):
            batch = model_input if model_input.ndim == 4 else model_input[None]
            return [self._from_array(a, mode) for a in batch]
        if isinstance(model_input, list) and model_input and isinstance(model_input[0], np.ndarray):
            return [self._from_array(a, mode) for a in model_input]
        if hasattr(model_input, "columns"):
            if "image" not in model_input.columns:
                raise ValueError("the input needs a column named 'image'")
            values = list(model_input["image"])
        else:
            values = list(model_input)
        arrays = []
        for row, value in enumerate(values):
            with _decode(value, row) as image:
                arrays.append(load_image_array(image, mode))
        return arrays

    @staticmethod
    def _from_array(array: np.ndarray, mode: str) -> np.ndarray:
        array = np.asarray(array)
        if array.dtype != np.uint8:
            raise ValueError("numpy input must be uint8 pixels (HxWxC)")
        channels = 1 if mode == "L" else 3
        if array.ndim == 3 and array.shape[2] == channels:
            return array  # already what the model takes: no round trip through PIL
        image = Image.fromarray(array[..., 0] if array.ndim == 3 and array.shape[2] == 1 else array)
        return load_image_array(image, mode)

    # pd.DataFrame is the one hint MLflow derives no schema from (a schema would refuse
    # base64 text and paths alike) and does not warn about; ndarrays and lists of images
    # are accepted too
    def predict(self, context, model_input: pd.DataFrame, params=None):
        import torch

        arrays = self._arrays(model_input)
        grid = self.preprocess.patch_grid
        tensors = []
        for array in arrays:
            corrected = correct_brightness(array, self.preprocess)
            for index in range(self.preprocess.patches_per_image):
                tile = np.ascontiguousarray(patch(corrected, grid, index))
                tensors.append(self.transform(tile))
        if not tensors:
            return pd.DataFrame(columns=["label", "probability"])
        with torch.inference_mode():
            probabilities = torch.softmax(self.net(torch.stack(tensors)), dim=1)
        per_image = probabilities.reshape(len(arrays), self.preprocess.patches_per_image, -1)
        mean = per_image.mean(dim=1).numpy()
        best = mean.argmax(axis=1)
        frame = pd.DataFrame(
            {
                "label": [self.class_names[i] for i in best],
                "probability": mean[np.arange(len(best)), best],
            }
        )
        for index, name in enumerate(self.class_names):
            frame[f"prob_{name}"] = mean[:, index]
        return frame
