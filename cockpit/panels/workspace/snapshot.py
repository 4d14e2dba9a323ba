"""What the Workspace panel shows, computed off the GUI thread (no Qt here)."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import resolve_params
from core.config.params import ResolvedParams
from core.errors import CockpitError
from core.registry import Finding, check_registry
from core.workspace import Workspace


@dataclass(frozen=True)
class WorkspaceSnapshot:
    findings: list[Finding]
    registry_error: str | None
    params: ResolvedParams | None
    params_error: str | None
    # (setting, value with any password masked, where it was set, what it holds)
    stores: tuple[tuple[str, str, str, str], ...] = ()
    stores_error: str | None = None


def take_snapshot(workspace: Workspace) -> WorkspaceSnapshot:
    """Registry status (configs only: never imports torch), the resolved parameters and
    the stores (cockpit.yaml and the COCKPIT_* variables)."""
    try:
        findings, registry_error = check_registry(workspace, deep=False), None
    except CockpitError as exc:
        findings, registry_error = [], str(exc)
    try:
        params, params_error = resolve_params(workspace), None
    except CockpitError as exc:
        params, params_error = None, str(exc)
    try:
        stores, stores_error = tuple(workspace.stores.rows()), None
    except CockpitError as exc:  # a cockpit.yaml that cannot be read
        stores, stores_error = (), str(exc)
    return WorkspaceSnapshot(
        findings, registry_error, params, params_error, stores, stores_error
    )
