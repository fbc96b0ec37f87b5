"""Super-resolution: networks (``archs``), engines (``engine``), the ncnn importer (``ncnn``).

Importing this package is light; ``engines.sr.archs`` imports torch.
"""
