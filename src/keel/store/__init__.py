"""The metadata store: SQLAlchemy Core tables, Alembic migrations, one repository module per
bounded context (foundation layer)."""
