"""Storage: SQLAlchemy tables, migrations, evidence files, audit chain, queries."""
