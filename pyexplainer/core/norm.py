"""Layer norm, split into the steps the layer-norm view shows, recomputed in float64."""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class LayerNormSteps:
    """One layer norm over the last axis, every step float64."""

    mean: np.ndarray  # (...) mean of x over D
    std: np.ndarray  # (...) sqrt(variance of x over D + epsilon)
    normalised: np.ndarray  # (..., D) (x - mean) / std
    output: np.ndarray  # (..., D) gain * normalised + bias


def layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray, epsilon: float) -> LayerNormSteps:
    """GPT-2's layer norm of x (..., D) with gain and bias (D,), in float64 from x alone.

    Its own mean and (biased) variance, not the model's: compared with the model's float32
    output, the difference is the model's rounding, and more if the model normalised otherwise.
    GPT-2 divides by sqrt(variance + epsilon), so we do too.
    """
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=-1)  # (...)
    std = np.sqrt(x.var(axis=-1) + epsilon)  # (...)
    normalised = (x - mean[..., None]) / std[..., None]  # (..., D)
    output = np.asarray(gain, np.float64) * normalised + np.asarray(bias, np.float64)
    return LayerNormSteps(mean, std, normalised, output)
