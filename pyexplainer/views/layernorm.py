"""The layer-norm view: for one token, a layer norm's input, its mean and standard deviation,
the normalised vector, the learned scale (gain) and shift (bias), and the output.

GPT-2 has three kinds: ln1 before attention and ln2 before the MLP in every block, and lnf after
the last block. Mean, std and output are the model's own (the trace). The normalised vector and
the rebuilt output are recomputed here in float64 from the traced input alone (its own mean and
variance, the config's epsilon, the traced gain and bias); how far that rebuild is from the
model's float32 output is the view's check.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from pyexplainer.config import ModelConfig
from pyexplainer.core.norm import layer_norm
from pyexplainer.core.trace import Trace, largest_difference
from pyexplainer.views.selection import checked_index, covered_tokens, row_of_position
from pyexplainer.views.stages import LAYER_NORMS
from pyexplainer.views.tokens import TokenView


@dataclasses.dataclass(frozen=True, eq=False)
class LayerNormView:
    which: str  # "ln1", "ln2" or "lnf"
    layer: int  # the block; for lnf, L (it reads residual[L], after the last block)
    position: int  # absolute position of the token
    label: str
    input: np.ndarray  # (D,) residual[layer] (ln1), residual_mid[layer] (ln2), residual[L] (lnf)
    mean: float  # mean of input over D, by the model
    std: float  # sqrt(variance of input + epsilon), by the model
    epsilon: float  # added to the variance so that std is never 0
    normalised: np.ndarray  # (D,) (input - mean) / std, recomputed in float64: mean 0, spread 1
    gain: np.ndarray  # (D,) learned scale
    bias: np.ndarray  # (D,) learned shift
    output: np.ndarray  # (D,) the model's output
    rebuilt: np.ndarray  # (D,) gain * normalised + bias, float64
    max_difference: float  # max |rebuilt - output|: the model's rounding


def layer_norm_view(
    trace: Trace,
    config: ModelConfig,
    tokens: Sequence[TokenView],
    which: str,
    layer: int,
    position: int,
) -> LayerNormView:
    """Layer norm `which` of block `layer` (layer = L for lnf) on the token at `position`."""
    covered = covered_tokens(trace, tokens)
    row = row_of_position(trace, position)
    n_layer = trace.ln1_out.shape[0]
    if which not in LAYER_NORMS:
        raise ValueError(f"which must be one of {', '.join(LAYER_NORMS)}, got {which!r}")
    if which == "lnf" and layer != n_layer:
        raise ValueError(f"the final layer norm comes after the last block: its layer is {n_layer}")
    if which != "lnf":
        layer = checked_index("layer", layer, n_layer)
    x, mean, std, gain, bias, out = _layer_norm_tensors(trace, which, layer)
    x, mean, std, out = x[row], mean[row], std[row], out[row]  # (D,), (), (), (D,)
    recomputed = layer_norm(x, gain, bias, config.layer_norm_epsilon)  # float64, from x alone
    return LayerNormView(
        which=which,
        layer=layer,
        position=position,
        label=covered[position].label,
        input=x,
        mean=float(mean),
        std=float(std),
        epsilon=config.layer_norm_epsilon,
        normalised=recomputed.normalised,
        gain=gain,
        bias=bias,
        output=out,
        rebuilt=recomputed.output,
        max_difference=largest_difference(recomputed.output, out),
    )


def _layer_norm_tensors(trace: Trace, which: str, layer: int) -> tuple[np.ndarray, ...]:
    """input (T, D), mean (T,), std (T,), gain (D,), bias (D,), output (T, D) of one layer norm."""
    if which == "lnf":
        return (
            trace.residual[layer],
            trace.lnf_mean,
            trace.lnf_std,
            trace.lnf_gain,
            trace.lnf_bias,
            trace.lnf_out,
        )
    x = trace.residual if which == "ln1" else trace.residual_mid
    parts = ("mean", "std", "gain", "bias", "out")
    return (x[layer], *(getattr(trace, f"{which}_{part}")[layer] for part in parts))
