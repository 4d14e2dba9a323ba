"""``cockpit export`` and ``cockpit mlflow-ui``."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import click

from cockpit.cli.common import current_workspace, workspace_option


@click.command()
@click.option(
    "--model",
    "spec",
    required=True,
    metavar="NAME[/VERSION]",
    help="registered model, e.g. cells_model or cells_model/3 (default: latest)",
)
@click.option("--format", "fmt", type=click.Choice(["onnx", "torchscript"]), required=True)
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@click.command("mlflow-ui")
@click.option("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
@workspace_option
def mlflow_ui(port: int) -> None:
    """Serve the MLflow UI for this workspace's runs and models on 127.0.0.1."""
    workspace = current_workspace().ensure_dirs()
    port = port or free_port()
    click.echo(f"MLflow UI for {workspace.root}: http://127.0.0.1:{port}  (Ctrl+C stops it)")
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        workspace.mlflow_tracking_uri,
        "--default-artifact-root",
        workspace.mlflow_artifacts_dir.as_uri(),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    try:
        raise SystemExit(subprocess.call(command))
    except KeyboardInterrupt:
        raise SystemExit(0) from None
