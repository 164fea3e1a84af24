"""SQLAlchemy storage adapter: one implementation for SQLite and PostgreSQL."""
