"""The document and everything that keeps it: the Qt-free layers (document.py), the undo commands
(commands.py), opening and saving (files.py, hint_sidecar.py) and autosave / crash recovery (recovery.py)."""
