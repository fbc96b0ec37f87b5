"""Latent edit: panel.py, adapter.py, pad.py (the 2-D edit pad)."""
