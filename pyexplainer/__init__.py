"""pyexplainer: see how a GPT-2 model predicts the next token, with its real numbers."""

from pyexplainer.config import ModelConfig

__all__ = ["ModelConfig"]
__version__ = "0.1.0"
