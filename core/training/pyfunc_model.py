"""Models registered by earlier versions pickled ``core.training.pyfunc_model.ImageClassifier``;
this name stays importable so they still load in this project. New models are logged as
code (``served_model.py``) and need no project to load."""

from core.training.served_model import ImageClassifier

__all__ = ["ImageClassifier"]
