"""The canvas: the view widget (canvas.py), brush dabs and strokes on the layers (painting.py), mask
operations (mask_ops.py) and its latency bench (bench.py: ``ganstudio bench canvas``)."""
