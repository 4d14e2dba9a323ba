"""The workspace database (``database.db``): SQLAlchemy models, sessions, migrations."""

from core.db.engine import Database, open_database
from core.db.models import Base, Label, Model, ModelTrainData, Theme, TrainData

__all__ = [
    "Base",
    "Database",
    "Label",
    "Model",
    "ModelTrainData",
    "Theme",
    "TrainData",
    "open_database",
]
