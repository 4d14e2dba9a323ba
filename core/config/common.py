"""Parameters every experiment has, whatever its dataset, adapter and model.

Definitions add their own dataclass configs; all of them merge (Common < Dataset <
Adapter < Model) into one flat ``all_params`` dictionary. Constraints are declared with
``Annotated[type, pydantic.Field(...)]`` so validation, error messages and the GUI's
generated forms come from one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field


def _precision_text(value: object) -> object:
    # YAML reads `precision: 32` as an int; Lightning's names are text.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Precision = Annotated[
    Literal["auto", "32", "16-mixed", "bf16-mixed"],
    BeforeValidator(_precision_text),
    Field(description="numeric precision; auto = 16-mixed on a GPU, 32 on the CPU"),
]


@dataclass
class CommonConfig:
    dataset: Annotated[str, Field(description="dataset definition (configs/registry.json)")] = (
        "images"
    )
    model: Annotated[str, Field(description="model definition (configs/registry.json)")] = (
        "simple_cnn"
    )
    adapter: Annotated[str, Field(description="adapter of the chosen model")] = "classification"
    run_name: Annotated[str, Field(description="MLflow run name; empty = automatic")] = ""
    max_epochs: Annotated[
        int, Field(ge=1, le=100_000, description="epochs to train; raising it adds epochs")
    ] = 10
    batch_size: Annotated[int, Field(ge=1, le=65_536, description="images per batch")] = 32
    lr: Annotated[float, Field(gt=0, le=10, description="learning rate")] = 1e-3
    optimizer: Annotated[Literal["adam", "adamw", "sgd"], Field(description="optimiser")] = "adam"
    weight_decay: Annotated[float, Field(ge=0, le=1, description="L2 weight decay")] = 0.0
    momentum: Annotated[float, Field(ge=0, lt=1, description="momentum (sgd only)")] = 0.9
    scheduler: Annotated[
        Literal["none", "cosine", "step", "plateau"],
        Field(description="learning-rate schedule"),
    ] = "none"
    seed: Annotated[int, Field(ge=0, le=2**32 - 1, description="random seed")] = 42
    num_workers: Annotated[
        int, Field(ge=-1, le=256, description="data-loader workers; -1 = chosen for the machine")
    ] = -1
    precision: Precision = "auto"
    brightness: Annotated[
        Literal["none", "equalize", "gamma"],
        Field(description="brightness correction before everything else (training and serving)"),
    ] = "none"
    gamma: Annotated[
        float, Field(gt=0.05, le=10, description="gamma of brightness=gamma; < 1 brightens")
    ] = 1.0
    patch_grid: Annotated[
        int,
        Field(
            ge=1,
            le=8,
            description="cut each image into N x N patches (1 = off); predictions average them",
        ),
    ] = 1
    cache_preprocessed: Annotated[
        bool,
        Field(
            description=(
                "keep decoded, preprocessed images in memory and under output/cache/ "
                "(same results, faster epochs); false = decode every image every epoch"
            )
        ),
    ] = True
    cache_memory_mb: Annotated[
        int,
        Field(ge=0, le=1_048_576, description="memory the image cache may hold, in MiB"),
    ] = 1024
    torch_compile: Annotated[
        bool,
        Field(
            description=(
                "compile the network with torch.compile (faster on a GPU after a slow first "
                "epoch; numerics may differ slightly, so it is part of the experiment id)"
            )
        ),
    ] = False
    early_stopping_patience: Annotated[
        int,
        Field(ge=0, le=10_000, description="epochs without improvement before stopping; 0 = off"),
    ] = 5
    registration: Annotated[
        Literal["better", "always", "never"],
        Field(
            description=(
                "when a finished training becomes a model registry version: better = only "
                "when it beats every registered version of its theme (test accuracy, valid "
                "accuracy without a test split); always; never"
            )
        ),
    ] = "better"
