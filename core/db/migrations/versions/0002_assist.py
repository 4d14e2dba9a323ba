"""Model-assisted labeling: assist_run, prediction, label_issue.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "assist_run",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "theme_id", sa.Integer, sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("model_name", sa.String(200), nullable=True),
        sa.Column("model_version", sa.String(20), nullable=True),
        sa.Column("mlflow_run_id", sa.String(64), nullable=True),
        sa.Column("params_json", sa.Text, nullable=False),
        sa.Column("counts_json", sa.Text, nullable=False),
        sa.Column("payload_json", sa.Text, nullable=False),
        sa.Column("undone", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint(
            "kind IN ('suggest', 'label_issues', 'accept')", name="ck_assist_run_kind"
        ),
    )
    op.create_index("ix_assist_run_theme_kind", "assist_run", ["theme_id", "kind"])
    op.create_table(
        "prediction",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "theme_id", sa.Integer, sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "train_data_id",
            sa.Integer,
            sa.ForeignKey("train_data.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(20), nullable=False),
        sa.Column(
            "label_id", sa.Integer, sa.ForeignKey("label.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("probability", sa.Float, nullable=False),
        sa.Column("top_json", sa.Text, nullable=False),
        sa.Column("least_confidence", sa.Float, nullable=False),
        sa.Column("margin", sa.Float, nullable=False),
        sa.Column("entropy", sa.Float, nullable=False),
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("assist_run.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint(
            "train_data_id", "model_name", "model_version", name="uq_prediction_image_model"
        ),
    )
    op.create_index("ix_prediction_train_data_id", "prediction", ["train_data_id"])
    op.create_index(
        "ix_prediction_theme_model", "prediction", ["theme_id", "model_name", "model_version"]
    )
    op.create_table(
        "label_issue",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("assist_run.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "train_data_id",
            sa.Integer,
            sa.ForeignKey("train_data.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column(
            "given_label_id",
            sa.Integer,
            sa.ForeignKey("label.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "suggested_label_id",
            sa.Integer,
            sa.ForeignKey("label.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "other_train_data_id",
            sa.Integer,
            sa.ForeignKey("train_data.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("detail", sa.Text, nullable=False),
        sa.CheckConstraint("kind IN ('label', 'duplicate', 'outlier')", name="ck_label_issue_kind"),
    )
    op.create_index("ix_label_issue_train_data_id", "label_issue", ["train_data_id"])
    op.create_index("ix_label_issue_run_kind_rank", "label_issue", ["run_id", "kind", "rank"])


def downgrade() -> None:
    op.drop_table("label_issue")
    op.drop_table("prediction")
    op.drop_table("assist_run")
