"""SQLite persistence: connection, migrations and repositories."""
