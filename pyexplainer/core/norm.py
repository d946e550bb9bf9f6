"""Layer norm, split into the steps the layer-norm view shows, from the model's own statistics."""

import numpy as np


def layer_norm_steps(
    x: np.ndarray, mean: np.ndarray, std: np.ndarray, gain: np.ndarray, bias: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """x (..., D) with its mean and std (...) -> normalised (x - mean) / std (..., D) and the
    output gain * normalised + bias (..., D); gain and bias are (D,).

    std is sqrt(variance + epsilon) as the model computed it; GPT-2 divides by it, so we do too.
    """
    mean, std = (np.asarray(a)[..., None] for a in (mean, std))  # (..., 1)
    normalised = (np.asarray(x) - mean) / std  # (..., D)
    return normalised, gain * normalised + bias  # (..., D)
