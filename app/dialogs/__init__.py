"""Modal and free-standing windows: folder batch (batch_dialog.py + its worker batch_worker.py),
Engines ▸ Models… (models_dialog.py) and the offer to restore unsaved work (recovery_prompt.py)."""
