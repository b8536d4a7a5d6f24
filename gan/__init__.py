"""DCGANs for facial expressions: models, data readers, training, checkpoints.

This package never imports the editor or Gradio; the editor uses its public API
(models, checkpoint loading).
"""

__version__ = "0.1.0"

from .data import EXPRESSIONS  # noqa: E402  (light: numpy, torch, PIL only)

__all__ = ["EXPRESSIONS", "__version__"]
