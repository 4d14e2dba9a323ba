"""Outputs of jobs run on a Ray node with a shipped copy of their data: job_output.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_output",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("job_id", sa.String(100), nullable=False),
        sa.Column("submission_id", sa.String(200), nullable=False),
        sa.Column("files", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_job_output_job_id", "job_output", ["job_id"])


def downgrade() -> None:
    op.drop_index("ix_job_output_job_id", table_name="job_output")
    op.drop_table("job_output")
