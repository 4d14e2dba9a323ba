"""Tables of the workspace database: themes, labels, images (TrainData), models and which
images trained which model."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SPLITS = ("train", "valid", "test")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Theme(Base):
    __tablename__ = "theme"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    labels: Mapped[list[Label]] = relationship(
        back_populates="theme", cascade="all, delete-orphan", order_by="Label.id"
    )


class Label(Base):
    __tablename__ = "label"
    __table_args__ = (UniqueConstraint("theme_id", "label_name", name="uq_label_theme_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("theme.id", ondelete="CASCADE"), index=True)
    label_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    theme: Mapped[Theme] = relationship(back_populates="labels")


class TrainData(Base):
    """One imported image. ``label_id`` NULL = unlabeled; ``split`` NULL = not split yet."""

    __tablename__ = "train_data"
    __table_args__ = (
        UniqueConstraint("theme_id", "content_hash", name="uq_train_data_theme_hash"),
        CheckConstraint("split IN ('train', 'valid', 'test')", name="ck_train_data_split"),
        Index("ix_train_data_theme_label", "theme_id", "label_id"),
        Index("ix_train_data_theme_split", "theme_id", "split"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_path: Mapped[str] = mapped_column(String(500))  # relative to the workspace
    theme_id: Mapped[int] = mapped_column(ForeignKey("theme.id", ondelete="CASCADE"))
    label_id: Mapped[int | None] = mapped_column(
        ForeignKey("label.id", ondelete="RESTRICT"), nullable=True
    )
    split: Mapped[str | None] = mapped_column(String(5), nullable=True)
    labeled_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(500), default="")
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    label: Mapped[Label | None] = relationship()


class Model(Base):
    """A trained model: its MLflow run and the experiment it belongs to."""

    __tablename__ = "model"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("theme.id", ondelete="CASCADE"), index=True)
    mlflow_run_id: Mapped[str] = mapped_column(String(64), unique=True)
    experiment_hash: Mapped[str] = mapped_column(String(64), index=True)
    metrics_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ModelTrainData(Base):
    __tablename__ = "model_train_data"

    model_id: Mapped[int] = mapped_column(
        ForeignKey("model.id", ondelete="CASCADE"), primary_key=True
    )
    train_data_id: Mapped[int] = mapped_column(
        ForeignKey("train_data.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AssistRun(Base):
    """One run of model-assisted labeling: a suggestion run (``suggest``), a label-issue
    finder run (``label_issues``) or a bulk acceptance of suggestions (``accept``, its
    ``payload_json`` holds what it changed, for undo)."""

    __tablename__ = "assist_run"
    __table_args__ = (
        CheckConstraint("kind IN ('suggest', 'label_issues', 'accept')", name="ck_assist_run_kind"),
        Index("ix_assist_run_theme_kind", "theme_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("theme.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    model_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    model_version: Mapped[str | None] = mapped_column(String(20), nullable=True)
    mlflow_run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    params_json: Mapped[str] = mapped_column(Text, default="{}")
    counts_json: Mapped[str] = mapped_column(Text, default="{}")
    payload_json: Mapped[str] = mapped_column(Text, default="{}")
    undone: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Prediction(Base):
    """A registered model version's prediction for one image: the suggested label, the
    top-k probabilities and its uncertainty (least confidence, margin, entropy)."""

    __tablename__ = "prediction"
    __table_args__ = (
        UniqueConstraint(
            "train_data_id", "model_name", "model_version", name="uq_prediction_image_model"
        ),
        Index("ix_prediction_theme_model", "theme_id", "model_name", "model_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("theme.id", ondelete="CASCADE"))
    train_data_id: Mapped[int] = mapped_column(
        ForeignKey("train_data.id", ondelete="CASCADE"), index=True
    )
    model_name: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(20))
    label_id: Mapped[int] = mapped_column(ForeignKey("label.id", ondelete="CASCADE"))
    probability: Mapped[float] = mapped_column(Float)
    top_json: Mapped[str] = mapped_column(Text)  # [[label name, probability], ...] best first
    least_confidence: Mapped[float] = mapped_column(Float)
    margin: Mapped[float] = mapped_column(Float)
    entropy: Mapped[float] = mapped_column(Float)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("assist_run.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LabelIssue(Base):
    """A finding of a label-issue finder run, ranked best first within its kind:
    ``label`` (suspected wrong label), ``duplicate`` (same or near-same image as
    ``other_train_data_id``) or ``outlier``."""

    __tablename__ = "label_issue"
    __table_args__ = (
        CheckConstraint("kind IN ('label', 'duplicate', 'outlier')", name="ck_label_issue_kind"),
        Index("ix_label_issue_run_kind_rank", "run_id", "kind", "rank"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("assist_run.id", ondelete="CASCADE"))
    train_data_id: Mapped[int] = mapped_column(
        ForeignKey("train_data.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)  # label quality / similarity / outlier score
    given_label_id: Mapped[int | None] = mapped_column(
        ForeignKey("label.id", ondelete="SET NULL"), nullable=True
    )
    suggested_label_id: Mapped[int | None] = mapped_column(
        ForeignKey("label.id", ondelete="SET NULL"), nullable=True
    )
    other_train_data_id: Mapped[int | None] = mapped_column(
        ForeignKey("train_data.id", ondelete="CASCADE"), nullable=True
    )
    detail: Mapped[str] = mapped_column(Text, default="")


class JobOutput(Base):
    """The files a job wrote on a Ray node that does not share the workspace (data shipped
    with the job): one zip per Ray job, written by the job when it ends and taken into the
    workspace (then deleted) by the job's supervisor on the runner's machine."""

    __tablename__ = "job_output"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(100), index=True)
    submission_id: Mapped[str] = mapped_column(String(200))
    files: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
