"""The MLP view: for one token of one block, the layer-normed input, the 4x wider hidden layer
before and after GELU, the output and the residual add; and the GELU curve with where this
token's hidden units fall on it.

Two checks against the model's own float32 numbers: GELU recomputed here in float64 from its input
(mlp_pre) against the model's mlp_act, and the residual add recomputed in float64 from the stream
and the MLP output against the model's next stream. The two projections (c_fc, c_proj) are the
model's own numbers: the trace has no MLP weights to recompute them with."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from pyexplainer.core.mlp import gelu
from pyexplainer.core.trace import Trace, largest_difference
from pyexplainer.views.selection import checked_index, covered_tokens, row_of_position
from pyexplainer.views.tokens import TokenView

CURVE_POINTS = 201  # samples of the GELU curve
HISTOGRAM_BINS = 40  # bins of the pre-activation histogram
OFF_BELOW = -2.0  # GELU maps x < OFF_BELOW to a value between gelu(OFF_BELOW) (about -0.05) and 0


@dataclasses.dataclass(frozen=True, eq=False)
class MlpView:
    layer: int
    position: int  # absolute position of the token
    label: str
    input: np.ndarray  # (D,) ln2_out: the second layer norm's output
    pre: np.ndarray  # (4D,) mlp_pre = input @ c_fc weight + c_fc bias (by the model)
    activated: np.ndarray  # (4D,) gelu(pre), computed here in float64
    model_activated: np.ndarray  # (4D,) mlp_act, the model's own GELU output
    gelu_mismatch: float  # max |activated - model_activated|: the model's rounding
    output: np.ndarray  # (D,) mlp_out = model_activated @ c_proj weight + c_proj bias
    residual_before: np.ndarray  # (D,) residual_mid[layer]
    residual_after: np.ndarray  # (D,) residual[layer + 1] = residual_before + output
    add_mismatch: float  # max |residual_before + output in float64 - residual_after|
    curve_x: np.ndarray  # (CURVE_POINTS,) evenly over [pre.min(), pre.max()]
    curve_y: np.ndarray  # (CURVE_POINTS,) gelu(curve_x)
    histogram_counts: np.ndarray  # (HISTOGRAM_BINS,) how many units of `pre` fall in each bin
    histogram_edges: np.ndarray  # (HISTOGRAM_BINS + 1,)
    off_below: float  # OFF_BELOW
    gelu_at_off_below: float  # gelu(OFF_BELOW): units below it output something in (this, 0]
    off_share: float  # share of the 4D units with pre < OFF_BELOW: GELU leaves them nearly 0
    negative_share: float  # share of units with pre < 0, which GELU shrinks towards 0


def mlp_view(trace: Trace, tokens: Sequence[TokenView], layer: int, position: int) -> MlpView:
    """Block `layer`'s MLP on the token at absolute `position`."""
    covered = covered_tokens(trace, tokens)
    layer = checked_index("layer", layer, trace.mlp_pre.shape[0])
    row = row_of_position(trace, position)
    pre, model_activated = trace.mlp_pre[layer, row], trace.mlp_act[layer, row]  # (4D,)
    activated = gelu(pre.astype(np.float64))  # (4D,)
    output = trace.mlp_out[layer, row]  # (D,)
    before, after = trace.residual_mid[layer, row], trace.residual[layer + 1, row]  # (D,)
    curve_x = np.linspace(float(pre.min()), float(pre.max()), CURVE_POINTS)
    counts, edges = np.histogram(pre, bins=HISTOGRAM_BINS)
    return MlpView(
        layer=layer,
        position=position,
        label=covered[position].label,
        input=trace.ln2_out[layer, row],
        pre=pre,
        activated=activated,
        model_activated=model_activated,
        gelu_mismatch=largest_difference(activated, model_activated),
        output=output,
        residual_before=before,
        residual_after=after,
        add_mismatch=largest_difference(before.astype(np.float64) + output, after),
        curve_x=curve_x,
        curve_y=gelu(curve_x),
        histogram_counts=counts,
        histogram_edges=edges,
        off_below=OFF_BELOW,
        gelu_at_off_below=float(gelu(np.float64(OFF_BELOW))),
        off_share=float(np.mean(pre < OFF_BELOW)),
        negative_share=float(np.mean(pre < 0)),
    )
