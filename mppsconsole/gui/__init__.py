"""PySide6 user interface over the services (the window arrives with issue #4)."""
