"""ExperimentBuilder / ExperimentContext: from validated parameters and a theme
to everything a run needs: data snapshot, experiment id, transforms, network, datamodule
and LightningModule. Training, tuning, plotting and inference all build through here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config.augments import AugmentsConfig
from core.config.params import ResolvedParams
from core.data.snapshot import DEFAULT_RATIOS, DataSnapshot, load_snapshot, require_trainable
from core.data.splits import assign_splits
from core.db import open_database
from core.registry import Registry
from core.workspace import Workspace


@dataclass
class ExperimentContext:
    workspace: Workspace
    params: ResolvedParams
    theme_name: str
    snapshot: DataSnapshot
    experiment_id: str
    augments: AugmentsConfig
    adapter: Any
    net: Any  # torch.nn.Module
    module: Any  # ClassificationModule
    datamodule: Any  # LightningDataModule
    folder: Path | None = None  # a reproduction trains outside the experiment's own folder

    @property
    def values(self) -> dict[str, Any]:
        return self.params.values

    @property
    def experiment_dir(self) -> Path:
        return self.folder or self.workspace.experiment_dir(self.experiment_id)

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.snapshot.class_names


class ExperimentBuilder:
    def __init__(self, workspace: Workspace, params: ResolvedParams, theme_name: str) -> None:
        self.workspace = workspace
        self.params = params
        self.theme_name = theme_name
        # the registry entries resolved with the parameters (a job's: frozen at submit)
        self.registry = Registry(workspace, params.registry)

    def data_snapshot(self, *, split_new_images: bool = True) -> DataSnapshot:
        """The theme's trainable images; new labeled images get a split first."""
        db = open_database(self.workspace)
        values = self.params.values
        if split_new_images:
            assign_splits(db, self.theme_name, values["split_ratios"], values["split_seed"])
        snapshot = load_snapshot(db, self.theme_name)
        require_trainable(snapshot, db, values.get("split_ratios", DEFAULT_RATIOS))
        return snapshot

    def build(self, snapshot: DataSnapshot | None = None) -> ExperimentContext:
        from core.preprocessing import normalisation_table
        from core.training.module import ClassificationModule
        from core.training.transforms import build_transforms, normalisation

        snapshot = snapshot or self.data_snapshot()
        values = self.params.values
        choice = self.params.choice
        augments = self.params.augments
        transforms = build_transforms(
            values, augments, self.workspace.relative(self.workspace.augments_file)
        )

        model_entry = self.registry.model(choice.model)
        adapter_entry = self.registry.adapter(choice.model, choice.adapter)
        dataset_entry = self.registry.dataset(choice.dataset)
        adapter_cls = self.registry.load_object(
            adapter_entry.adapter, f"models.{choice.model}.adapters.{choice.adapter}.adapter"
        )
        model_cls = self.registry.load_object(model_entry.model, f"models.{choice.model}.model")
        if dataset_entry.datamodule is None:
            from core.errors import CockpitError

            raise CockpitError(
                f"dataset {choice.dataset!r} has no datamodule in configs/registry.json; "
                "it cannot be trained on"
            )
        datamodule_cls = self.registry.load_object(
            dataset_entry.datamodule, f"datasets.{choice.dataset}.datamodule"
        )
        adapter = adapter_cls(values)
        net = model_cls(values, **adapter.model_kwargs(len(snapshot.class_names)))
        channels = 1 if values["image_mode"] == "L" else 3
        mean_std = normalisation(augments, channels)
        table = normalisation_table(*mean_std)
        module = ClassificationModule(net, values, snapshot.class_names, table, mean_std)
        datamodule = datamodule_cls(
            values, workspace_root=self.workspace.root, snapshot=snapshot, transforms=transforms
        )
        return ExperimentContext(
            workspace=self.workspace,
            params=self.params,
            theme_name=self.theme_name,
            snapshot=snapshot,
            experiment_id=self.params.experiment_id(snapshot.fingerprint()),
            augments=augments,
            adapter=adapter,
            net=net,
            module=module,
            datamodule=datamodule,
        )
