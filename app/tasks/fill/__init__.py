"""Fill (inpainting): panel.py (method, sample-from area, live preview, variations), adapter.py."""
