"""Dock widgets around the canvas. Each takes the shared ToolState (and Settings where it persists)."""
