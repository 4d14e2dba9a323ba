"""Initial schema: theme, label, train_data, model, model_train_data.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "theme",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "label",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "theme_id", sa.Integer, sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("label_name", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("theme_id", "label_name", name="uq_label_theme_name"),
    )
    op.create_index("ix_label_theme_id", "label", ["theme_id"])
    op.create_table(
        "train_data",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("image_path", sa.String(500), nullable=False),
        sa.Column(
            "theme_id", sa.Integer, sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "label_id", sa.Integer, sa.ForeignKey("label.id", ondelete="RESTRICT"), nullable=True
        ),
        sa.Column("split", sa.String(5), nullable=True),
        sa.Column("labeled_by", sa.String(200), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("original_name", sa.String(500), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("theme_id", "content_hash", name="uq_train_data_theme_hash"),
        sa.CheckConstraint("split IN ('train', 'valid', 'test')", name="ck_train_data_split"),
    )
    op.create_index("ix_train_data_theme_label", "train_data", ["theme_id", "label_id"])
    op.create_index("ix_train_data_theme_split", "train_data", ["theme_id", "split"])
    op.create_table(
        "model",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "theme_id", sa.Integer, sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("mlflow_run_id", sa.String(64), nullable=False, unique=True),
        sa.Column("experiment_hash", sa.String(64), nullable=False),
        sa.Column("metrics_json", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_model_theme_id", "model", ["theme_id"])
    op.create_index("ix_model_experiment_hash", "model", ["experiment_hash"])
    op.create_table(
        "model_train_data",
        sa.Column(
            "model_id", sa.Integer, sa.ForeignKey("model.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "train_data_id",
            sa.Integer,
            sa.ForeignKey("train_data.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index("ix_model_train_data_train_data_id", "model_train_data", ["train_data_id"])


def downgrade() -> None:
    op.drop_table("model_train_data")
    op.drop_table("model")
    op.drop_table("train_data")
    op.drop_table("label")
    op.drop_table("theme")
