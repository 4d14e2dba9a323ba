"""The workspace database (``database.db``): SQLAlchemy models, sessions, migrations."""

from core.db.engine import Database, open_database
from core.db.models import (
    AssistRun,
    Base,
    JobOutput,
    Label,
    LabelIssue,
    Model,
    ModelTrainData,
    Prediction,
    Theme,
    TrainData,
)

__all__ = [
    "AssistRun",
    "Base",
    "Database",
    "JobOutput",
    "Label",
    "LabelIssue",
    "Model",
    "ModelTrainData",
    "Prediction",
    "Theme",
    "TrainData",
    "open_database",
]
