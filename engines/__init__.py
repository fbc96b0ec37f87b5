"""GAN Studio engines: Qt-free models, weights, inference, tiling, batch and training.

Importing this package is cheap and side-effect free: no torch import, no device probing,
no file scanning. Import the submodules you need (``engines.core``, ``engines.imageio``...).
"""

__version__ = "0.1.0"
