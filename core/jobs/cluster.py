"""The Ray cluster's nodes, GPUs and their use, read from the cluster's dashboard over
HTTP (no Ray import here): Ray's state API (``/api/v0/nodes``, what
``ray.util.state.list_nodes`` asks: which nodes, alive or not, what each has) and the node
summary the dashboard shows (what is in use: logical CPUs and GPUs the jobs hold, and each
physical GPU's utilisation and memory as the node's agent reads it).

The runner sizes its Ray slots from it (one job per cluster GPU, or per CPU on a
cluster without GPUs); the Queue panel and ``cockpit queue cluster`` show it.
"""

from __future__ import annotations

import json
import re
import urllib.request
from dataclasses import dataclass
from typing import Any

from core.errors import CockpitError
from core.settings import store_problem

MAX_SLOTS = 32  # a supervisor process per slot on the runner's machine
_USAGE = re.compile(r"^\s*([\d.]+)/([\d.]+)\s+(CPU|GPU)\s*$")


@dataclass(frozen=True)
class ClusterGpu:
    index: int
    name: str
    utilisation_percent: float | None
    memory_used_mb: float | None
    memory_total_mb: float | None

    def describe(self) -> str:
        use = "-" if self.utilisation_percent is None else f"{self.utilisation_percent:.0f} %"
        memory = ""
        if self.memory_total_mb:
            used_gb = (self.memory_used_mb or 0) / 1024
            memory = f" · {used_gb:.1f}/{self.memory_total_mb / 1024:.1f} GB"
        return f"GPU {self.index} {self.name}: {use}{memory}"


@dataclass(frozen=True)
class ClusterNode:
    node_id: str
    ip: str
    name: str
    alive: bool
    head: bool
    cpus_total: float
    gpus_total: float
    cpus_used: float | None = None  # held by running tasks and jobs (logical)
    gpus_used: float | None = None
    gpus: tuple[ClusterGpu, ...] = ()

    def describe(self) -> str:
        """``node 10.0.0.3 (head): GPUs 1/2 in use · CPUs 1/8 · GPU 0 A100: 37 % · …``"""
        role = " (head)" if self.head else ""
        if not self.alive:
            return f"node {self.ip}{role}: dead"

        def used(what: str, value: float | None, total: float) -> str:
            # the dashboard reports the use a few seconds after a node joins
            return f"{what} {total:g}" if value is None else f"{what} {value:g}/{total:g} in use"

        parts = [used("GPUs", self.gpus_used, self.gpus_total)] if self.gpus_total else []
        parts.append(used("CPUs", self.cpus_used, self.cpus_total))
        parts.extend(gpu.describe() for gpu in self.gpus)
        return f"node {self.ip}{role}: " + " · ".join(parts)


def _usage(text: str) -> dict[str, tuple[float, float]]:
    """``'1.0/2.0 CPU\\n0.0/2.0 GPU\\n…'`` (the dashboard's logical resources of a node)."""
    found = {}
    for line in text.splitlines():
        match = _USAGE.match(line)
        if match:
            found[match.group(3)] = (float(match.group(1)), float(match.group(2)))
    return found


def check_address(address: str, unset: str = "") -> None:
    """One line when no Ray cluster is named (``unset``: what that means where it is
    asked) or the address is not a dashboard's URL."""
    if not address:
        raise CockpitError(
            f"no Ray cluster is named{unset}: set COCKPIT_RAY_ADDRESS or stores.ray_address "
            "in cockpit.yaml (e.g. http://head.lab:8265)"
        )
    if not address.startswith(("http://", "https://")):
        raise CockpitError(
            f"stores.ray_address: {address!r} is not the URL of a Ray dashboard; use e.g. "
            "http://head.lab:8265"
        )


def _get(address: str, path: str, timeout: float) -> dict[str, Any]:
    url = f"{address.rstrip('/')}{path}"
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response).get("data") or {}


def _summary(address: str, timeout: float) -> tuple[dict[str, dict], dict[str, str]]:
    """The dashboard's node summary by node id, and the logical use by node id."""
    data = _get(address, "/nodes?view=summary", timeout)
    by_id = {}
    for entry in data.get("summary") or []:
        raylet = entry.get("raylet") or {}
        if raylet.get("nodeId"):
            by_id[raylet["nodeId"]] = entry
    return by_id, data.get("nodeLogicalResources") or {}


def _gpus(entry: dict[str, Any]) -> tuple[ClusterGpu, ...]:
    gpus = []
    for position, gpu in enumerate(entry.get("gpus") or []):
        gpus.append(
            ClusterGpu(
                index=int(gpu.get("index", position)),
                name=str(gpu.get("name") or "GPU"),
                utilisation_percent=gpu.get("utilizationGpu"),
                memory_used_mb=gpu.get("memoryUsed"),
                memory_total_mb=gpu.get("memoryTotal"),
            )
        )
    return tuple(gpus)


def cluster_nodes(address: str, timeout: float = 5.0) -> list[ClusterNode]:
    """The cluster's nodes, the head first; one line naming the address when it cannot
    be asked."""
    check_address(address)
    try:
        states = _get(address, "/api/v0/nodes?detail=1&limit=10000", timeout)["result"]["result"]
    except (OSError, ValueError, KeyError, TypeError) as exc:  # refused, not a Ray dashboard
        raise store_problem("ray_address", address, exc) from exc
    try:
        summary, logical = _summary(address, timeout)
    except (OSError, ValueError):  # the use is missing, the nodes are still worth showing
        summary, logical = {}, {}
    nodes = []
    for state in states:
        total = state.get("resources_total") or {}
        node_id = str(state.get("node_id"))
        use = _usage(logical.get(node_id, ""))
        entry = summary.get(node_id, {})
        ip = str(state.get("node_ip") or "?")
        nodes.append(
            ClusterNode(
                node_id=node_id,
                ip=ip,
                name=str(entry.get("hostname") or state.get("node_name") or ip),
                alive=state.get("state") == "ALIVE",
                head=bool(state.get("is_head_node")),
                cpus_total=float(total.get("CPU", 0)),
                gpus_total=float(total.get("GPU", 0)),
                cpus_used=use["CPU"][0] if "CPU" in use else None,
                gpus_used=use["GPU"][0] if "GPU" in use else None,
                gpus=_gpus(entry),
            )
        )
    nodes.sort(key=lambda n: (not n.head, not n.alive, n.ip))
    return nodes


def cluster_slots(nodes: list[ClusterNode]) -> tuple[str, int]:
    """How many jobs the runner sends to the cluster at once: ``("gpu", n)`` with one per
    GPU of the live nodes, else ``("cpu", n)`` with one per CPU."""
    alive = [n for n in nodes if n.alive]
    gpus = int(sum(n.gpus_total for n in alive))
    if gpus:
        return "gpu", min(gpus, MAX_SLOTS)
    return "cpu", max(1, min(int(sum(n.cpus_total for n in alive)), MAX_SLOTS))


def cluster_text(address: str, nodes: list[ClusterNode]) -> str:
    """A few lines for the Queue panel and ``cockpit queue cluster``."""
    if not nodes:
        return (
            f"Ray cluster {address}: no node has reported yet (a node that has just "
            "started reports within a few seconds)"
        )
    alive = [n for n in nodes if n.alive]
    gpus = sum(n.gpus_total for n in alive)
    head = f"Ray cluster {address}: {len(alive)} node{'s' if len(alive) != 1 else ''}"
    if gpus and all(n.gpus_used is not None for n in alive):
        head += f", GPUs {sum(n.gpus_used or 0 for n in alive):g}/{gpus:g} in use"
    elif gpus:
        head += f", {gpus:g} GPU{'s' if gpus != 1 else ''}"
    return "\n".join([head, *(f"  {node.describe()}" for node in nodes)])

