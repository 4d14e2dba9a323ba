"""Uncertainty of a predicted probability vector: the active-learning scores."""

from __future__ import annotations

import numpy as np


def uncertainty(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of an (N, C) probability matrix: least confidence ``1 - max p``, margin
    ``p1 - p2`` (the two best classes; small = uncertain) and entropy in nats."""
    probs = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, 1.0)
    ordered = np.sort(probs, axis=1)[:, ::-1]
    least = 1.0 - ordered[:, 0]
    margin = ordered[:, 0] - (ordered[:, 1] if probs.shape[1] > 1 else 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(probs > 0, -probs * np.log(probs), 0.0)
    return least, margin, terms.sum(axis=1)
