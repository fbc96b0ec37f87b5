"""Colorize: panel.py (model, hints, suggestions, gamut, mix), adapter.py."""
