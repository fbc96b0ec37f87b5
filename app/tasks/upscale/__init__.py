"""Upscale (super-resolution): panel.py (model, scale, tile, preview of the view), adapter.py."""
