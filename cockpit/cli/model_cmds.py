"""``cockpit export``, ``cockpit mlflow-ui``, ``cockpit models …`` and ``cockpit predict``."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import click

from cockpit.cli.common import current_workspace, workspace_option
from core.models.mlflow_server import free_port

__all__ = ["export", "free_port", "mlflow_ui", "models", "predict"]

SHOWN_METRICS = ("test_acc", "test_loss", "best_valid_acc", "best_valid_loss")


@click.command()
@click.option(
    "--model",
    "spec",
    required=True,
    metavar="NAME[/VERSION]",
    help="registered model, e.g. cells_model or cells_model/3 (default: latest)",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["onnx", "torchscript"]),
    required=True,
    help="file format to export",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="file to write (default: NAME-vVERSION.onnx|.pt in the current folder)",
)
@workspace_option
def export(spec: str, fmt: str, output: Path | None) -> None:
    """Export a registered model version to ONNX or TorchScript (checked with onnxruntime)."""
    from core.export.registered import export_registered

    path, summary = export_registered(current_workspace(), spec, fmt, output)
    click.echo(summary)
    click.echo(f"wrote {path}")


@click.command("mlflow-ui")
@click.option("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
@workspace_option
def mlflow_ui(port: int) -> None:
    """Serve the MLflow UI for this workspace's runs and models on 127.0.0.1."""
    import signal
    import sys

    from core.models.mlflow_server import MlflowServer

    # the server runs in its own process group: a SIGTERM to us must still stop it
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    workspace = current_workspace().ensure_dirs()
    server = MlflowServer(workspace, port=port)
    click.echo(f"starting the MLflow UI for {workspace.root} …")
    try:
        server.start()
        if server.shared_pid is not None:
            click.echo(
                f"MLflow UI: {server.url}  (already served for this workspace by an open cockpit)"
            )
            return
        click.echo(f"MLflow UI: {server.url}  (Ctrl+C stops it; log {server.log_file})")
        while server.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


@click.group()
def models() -> None:
    """Registered models: list them, set or remove aliases."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
@workspace_option
def list_models_cmd(as_json: bool) -> None:
    """Registered models with their versions (best first), aliases and the metrics of
    each version's registered weights."""
    from dataclasses import asdict

    from core.models.catalog import list_models

    found = list_models(current_workspace())
    if as_json:
        click.echo(json.dumps([asdict(m) for m in found], indent=2))
        return
    if not found:
        click.echo("no registered models yet (train a model: cockpit train --theme NAME)")
    for model in found:
        aliases = ", ".join(f"@{a}=v{v}" for a, v in sorted(model.aliases.items()))
        click.echo(
            f"{model.name}  (theme {model.theme}; {len(model.versions)} version(s)"
            f"{'; ' + aliases if aliases else ''})"
        )
        for version in model.versions:
            created = datetime.fromtimestamp(version.created_ms / 1000).strftime("%Y-%m-%d %H:%M")
            metrics = "  ".join(
                f"{k} {version.metrics[k]:.4f}" for k in SHOWN_METRICS if k in version.metrics
            )
            tags = " ".join(f"@{a}" for a in version.aliases)
            if version.version == model.best_version:
                tags = f"best {model.metric}  {tags}"
            click.echo(
                f"  v{version.version:<4} {created}  run {version.run_id[:8]}  "
                f"{metrics}  {tags}".rstrip()
            )


@models.command("alias")
@click.argument("model")
@click.argument("version")
@click.argument("alias")
@workspace_option
def alias_cmd(model: str, version: str, alias: str) -> None:
    """Point ALIAS (e.g. champion, challenger) at VERSION of MODEL."""
    from core.models.catalog import set_alias

    chosen = set_alias(current_workspace(), model, version, alias)
    click.echo(f"{model}@{alias.strip()} -> version {chosen.version}")


@models.command("unalias")
@click.argument("model")
@click.argument("alias")
@workspace_option
def unalias_cmd(model: str, alias: str) -> None:
    """Remove ALIAS from MODEL."""
    from core.models.catalog import remove_alias

    remove_alias(current_workspace(), model, alias)
    click.echo(f"removed {model}@{alias}")


@click.command()
@click.option(
    "--model",
    "spec",
    required=True,
    metavar="NAME[/VERSION|@ALIAS]",
    help="registered model, e.g. cells_model, cells_model/3 or cells_model@champion",
)
@click.option(
    "--top-k",
    type=click.IntRange(1, 100),
    default=3,
    show_default=True,
    help="most probable labels to show per image",
)
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@workspace_option
def predict(spec: str, top_k: int, as_json: bool, images: tuple[Path, ...]) -> None:
    """Predict IMAGES with a registered model version (same preprocessing as training)."""
    import logging
    import warnings

    from core.models.predict import predict_images

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    report = predict_images(current_workspace(), spec, list(images), top_k=top_k)
    if as_json:
        click.echo(json.dumps(report.to_dict()))
    else:
        click.echo(f"{report.model} version {report.version}")
        for item in report.predictions:
            if item.error:
                click.echo(f"{item.path}: error: {item.error}")
            else:
                ranked = "  ".join(f"{label} {p:.1%}" for label, p in item.top)
                click.echo(f"{item.path}: {item.label}  ({ranked})")
    if any(item.error for item in report.predictions):
        # the others are predicted and printed; the exit status says not all could be
        raise SystemExit(2)
