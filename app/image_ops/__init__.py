"""The Image menu: crop, rotate, flip, resize, canvas size and extend-canvas-and-fill, each one undo step."""
