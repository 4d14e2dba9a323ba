"""Feeds a theme's images to ``resnet``: five stride-2 stages need at least 32 pixels."""

from core.adapter import ImageClassificationAdapter


class ClassificationAdapter(ImageClassificationAdapter):
    min_image_size = 32
