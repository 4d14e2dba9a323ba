"""Imports that cost less than the library's own ``import`` (the CLI answers before it
needs torch: see tests/cockpit/cli/test_fast_and_clean.py)."""

from __future__ import annotations

import sys


def albumentations_without_torch() -> None:
    """Import albumentations without torch (about a second), for checks of augments.yaml.

    albumentations imports its PyTorch helpers, and torch with them, whenever torch is
    installed. ``import torch`` fails while albumentations loads, which skips those helpers;
    they load later, with torch, if this process asks for ``albumentations.pytorch``.
    """
    if "albumentations" in sys.modules or "torch" in sys.modules:
        return
    sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        import albumentations  # noqa: F401
    finally:
        del sys.modules["torch"]
