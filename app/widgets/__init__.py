"""Widgets shared by docks, task sections and dialogs (public names only: no module reaches into
another's private classes)."""
