"""Alembic migrations of the workspace database (run by ``Database.upgrade``)."""
