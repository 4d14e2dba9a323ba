"""Synthetic demo data: a small image dataset generated locally, no downloads."""

from core.demo.shapes import DEMO_CLASSES, render_shape, render_shape_with_mask, write_demo_images

__all__ = ["DEMO_CLASSES", "render_shape", "render_shape_with_mask", "write_demo_images"]
