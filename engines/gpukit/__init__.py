"""The one-shot GPU training kit (``ganstudio train pack | all | accept``).

A GPU window is short (minutes) and rare, and only the repository travels to it. So the kit:

- :mod:`.pack` squeezes the *training* splits into a small git-ignored folder (``.gpu-data``);
- :mod:`.runner` trains every learned engine at once, one process each, to a shared deadline,
  and returns at most 8 files (one ``.tar`` per engine + a summary);
- :mod:`.accept` benches what came back on the held-out sets, on the CPU, and replaces a bundled
  default only where it wins.

Everything here runs from the repository with ``PYTHONPATH=.`` on a bare CUDA torch (no install,
no Qt); the data augmentation lives on the device (:mod:`.gpu_data`, :mod:`.augment`).
"""
