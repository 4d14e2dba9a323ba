"""The served model, logged as code: an ``mlflow.pyfunc.PythonModel`` that applies the
training run's preprocessing before predicting, so a client sends plain image files.

This file is what MLflow stores as the model ("models from code": no pickle), with the
project's ``preprocessing.py`` beside it as a code path. It imports nothing of the project:
the model loads and serves wherever mlflow, torch, numpy, pandas, Pillow and
albumentations are installed (``mlflow models serve --env-manager local`` included).

Input: a pandas DataFrame with a column ``image`` holding base64-encoded image file bytes
or raw bytes; from Python also a numpy uint8 batch (N, H, W, C) or a list of HxWxC
arrays. A string is always base64, never a file path: a scoring server must not read
files of its own disk for a client (a local caller reads the file and sends its bytes).
Output: a DataFrame with ``label``, ``probability`` and one ``prob_<class>`` column per
class.
"""

from __future__ import annotations

import base64
import binascii
import importlib.util
import io
import json
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import mlflow.models
import mlflow.pyfunc
import numpy as np
import pandas as pd
from PIL import Image

PREPROCESSING_FILE = "preprocessing.py"
_MODULE = "_cockpit_served_preprocessing"


def _preprocessing() -> ModuleType:
    """The preprocessing that travelled with the model (``code/preprocessing.py`` of the
    model folder) or, for this file inside the project, ``core/preprocessing.py``."""
    if _MODULE in sys.modules:
        return sys.modules[_MODULE]
    here = Path(__file__).resolve().parent
    candidates = [
        here / "code" / PREPROCESSING_FILE,  # a logged model's folder
        *(parent / PREPROCESSING_FILE for parent in here.parents[:3] if parent.name == "core"),
    ]
    for path in candidates:
        if path.is_file():
            spec = importlib.util.spec_from_file_location(_MODULE, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[_MODULE] = module
            spec.loader.exec_module(module)
            return module
    raise ImportError(f"{PREPROCESSING_FILE} not found beside the served model ({here})")


def decode_image(value: Any, row: int) -> Image.Image:
    """Base64 text or bytes of an image file -> a loaded PIL image."""
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
    elif isinstance(value, str):
        try:
            data = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(
                f"row {row}: 'image' text must be base64 of an image file "
                "(file paths are not read: send the file's bytes)"
            ) from None
    else:
        raise ValueError(f"row {row}: 'image' must be base64 text or bytes")
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:
        raise ValueError(f"row {row}: not a readable image ({exc})") from exc
    return image


class ImageClassifier(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        import torch

        pre = _preprocessing()
        serving = json.loads(Path(context.artifacts["serving"]).read_text())
        self.class_names: list[str] = serving["class_names"]
        self.preprocess = pre.PreprocessConfig(**serving["preprocess"])
        self.transform = pre.ImageTransform(
            pre.eval_steps(serving["image_size"], serving["mean"], serving["std"])
        )
        with warnings.catch_warnings():  # TorchScript is deprecated upstream, still supported
            warnings.simplefilter("ignore", FutureWarning)
            self.net = torch.jit.load(context.artifacts["torchscript"], map_location="cpu")
        self.net.eval()

    def _arrays(self, model_input: Any) -> list[np.ndarray]:
        pre = _preprocessing()
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
            with decode_image(value, row) as image:
                arrays.append(pre.load_image_array(image, mode))
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
        return _preprocessing().load_image_array(image, mode)

    # pd.DataFrame is the one hint MLflow derives no schema from (a schema would refuse
    # base64 text and bytes alike) and does not warn about; ndarrays and lists of images
    # are accepted too
    def predict(self, context, model_input: pd.DataFrame, params=None):
        import torch

        pre = _preprocessing()
        arrays = self._arrays(model_input)
        grid = self.preprocess.patch_grid
        tensors = []
        for array in arrays:
            corrected = pre.correct_brightness(array, self.preprocess)
            for index in range(self.preprocess.patches_per_image):
                tile = np.ascontiguousarray(pre.patch(corrected, grid, index))
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


mlflow.models.set_model(ImageClassifier())
