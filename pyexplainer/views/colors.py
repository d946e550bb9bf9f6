"""Colour scales for heatmaps and strips: numpy values -> RGBA bytes, no DOM.

Both scales avoid red-green contrasts so students with colour-vision deficiency read them too:
signed values run blue (negative) - white (0) - orange (positive), probabilities white - blue.
Cells that do not exist for the model (masked attention, -inf) are a light grey.
"""

from __future__ import annotations

import numpy as np

NEGATIVE = np.array([33, 102, 172], dtype=np.float64)  # blue
ZERO = np.array([247, 247, 247], dtype=np.float64)  # near white
POSITIVE = np.array([230, 97, 1], dtype=np.float64)  # orange
PROBABLE = np.array([8, 48, 107], dtype=np.float64)  # dark blue
MISSING = np.array([214, 214, 214], dtype=np.float64)  # grey: masked or not a number
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)


def _rgba(rgb: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """(..., 3) float colours and a (...) bool mask -> (..., 4) uint8, opaque."""
    rgb = np.where(missing[..., None], MISSING, rgb)
    alpha = np.full(rgb.shape[:-1] + (1,), 255.0)
    return np.concatenate([rgb, alpha], axis=-1).round().astype(np.uint8)


def diverging_rgba(values: np.ndarray, limit: float) -> np.ndarray:
    """(...) signed values -> (..., 4) uint8: -limit blue, 0 white, +limit orange (clipped)."""
    v = np.asarray(values, dtype=np.float64)
    missing = ~np.isfinite(v)
    t = np.clip(np.where(missing, 0.0, v) / (limit if limit > 0 else 1.0), -1.0, 1.0)[..., None]
    rgb = np.where(t < 0, ZERO + (NEGATIVE - ZERO) * -t, ZERO + (POSITIVE - ZERO) * t)
    return _rgba(rgb, missing)


def sequential_rgba(values: np.ndarray, vmax: float = 1.0) -> np.ndarray:
    """(...) values in [0, vmax] (probabilities) -> (..., 4) uint8: 0 white, vmax dark blue."""
    v = np.asarray(values, dtype=np.float64)
    missing = ~np.isfinite(v)
    t = np.clip(np.where(missing, 0.0, v) / (vmax if vmax > 0 else 1.0), 0.0, 1.0)[..., None]
    return _rgba(ZERO + (PROBABLE - ZERO) * t, missing)


def symmetric_limit(*arrays: np.ndarray) -> float:
    """The largest finite |value| over all arrays: one scale for strips shown side by side."""
    finite = [np.abs(a[np.isfinite(a)]) for a in map(np.asarray, arrays)]
    return float(max((f.max() for f in finite if f.size), default=1.0))


def relative_luminance(rgb) -> float:
    """WCAG 2 relative luminance of an sRGB colour given as 0-255 channels: 0 black, 1 white."""
    c = np.asarray(rgb, dtype=np.float64)[:3] / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def contrast_ratio(a, b) -> float:
    """WCAG 2 contrast ratio of two sRGB colours: 1 (the same) to 21 (black on white)."""
    light, dark = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def readable_text(background) -> tuple[int, int, int]:
    """White or black, whichever reads better on `background` (0-255 channels): one of them
    always reaches 4.58:1, above WCAG AA's 4.5 (a dark grey ink would not, on mid blues)."""
    return max((WHITE, BLACK), key=lambda ink: contrast_ratio(ink, background))
