"""Synthesize (semantic label map -> photo, SPADE): panel.py, adapter.py."""
