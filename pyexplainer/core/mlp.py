"""The MLP's activation: GPT-2's GELU, in the tanh form the model computes ("gelu_new")."""

import math

import numpy as np

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(x: np.ndarray) -> np.ndarray:
    """0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), elementwise; same shape and float dtype.

    Near 0 for x below about -2, near x above about 2, a smooth bend in between (its minimum,
    about -0.17, lies near x = -0.75).
    """
    x = np.asarray(x)
    return 0.5 * x * (1.0 + np.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x**3)))
