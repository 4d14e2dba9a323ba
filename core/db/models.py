"""Tables of seed 000 section 6: themes, labels, images (TrainData), models and which
images trained which model."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
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
