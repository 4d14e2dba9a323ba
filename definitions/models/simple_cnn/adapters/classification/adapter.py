"""Feeds a theme's images to ``simple_cnn``: square inputs of at least 16 pixels."""

from core.adapter import ImageClassificationAdapter


class ClassificationAdapter(ImageClassificationAdapter):
    min_image_size = 16  # two 5x5 convolutions and two 2x2 poolings leave one pixel
