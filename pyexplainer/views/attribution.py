"""The attribution stage: which parts of the model wrote the logit of one token (or the
difference of two tokens' logits) at the last position, ranked, as core/attribution.py splits it.

A part is named as links and checks name it: "embed", "L{l}H{h}" (block l, head h, from 0),
"L{l}attn_bias", "L{l}mlp", and the final layer norm's constant "lnf_bias".
"""

from __future__ import annotations

import dataclasses

import numpy as np

from pyexplainer.core.attribution import EMBED, LNF_BIAS, Attribution, Parts, attribute, per_block
from pyexplainer.views.logit_lens import LogitLensView

FILTERS = ("all", "heads", "mlps")  # which parts the ranked list shows
DEFAULT_TOP = 12  # parts the ranked list shows unless the student asks for more
NAMED_PARTS = 3  # the largest parts said in words
ASKED_PREDICTIONS = 15  # the output layer's rows the pass returns: these top tokens' (and more)


@dataclasses.dataclass(frozen=True)
class AttributionChoice:
    """What the student asks of the stage."""

    target: int | None = None  # a token id; None: the model's top prediction
    other: int | None = None  # the second token of a logit difference; None: none
    filter: str = "all"  # one of FILTERS
    top: int = DEFAULT_TOP  # how many parts the list shows


def top_predictions(logits: np.ndarray, banned: tuple[int, ...], n: int) -> tuple[int, ...]:
    """The n token ids of highest logit, the tokens the page never draws (banned) left out."""
    ranked = np.argsort(-logits.astype(np.float64), kind="stable")
    return tuple(int(t) for t in ranked[: n + len(banned)] if int(t) not in banned)[:n]


def chosen_tokens(choice: AttributionChoice, predicted: int) -> tuple[int, int | None]:
    """(the target, the second token or None) the stage shows."""
    return (predicted if choice.target is None else choice.target), choice.other


def asked_tokens(choice: AttributionChoice, top: tuple[int, ...]) -> tuple[int, ...]:
    """The tokens whose output-layer rows the pass asks for: the target and the second token,
    then the top predictions, so that picking another of them needs no new pass."""
    target, other = chosen_tokens(choice, top[0])
    wanted = [target] + ([other] if other is not None else []) + list(top)
    return tuple(dict.fromkeys(wanted))


@dataclasses.dataclass(frozen=True)
class PartBar:
    """One part's bar: its name, what kind of part it is, where it sits, its contribution."""

    name: str  # as data-component writes it
    kind: str  # "embed", "head", "attn_bias", "mlp" or "lnf_bias"
    layer: int | None
    head: int | None
    value: float  # logit units
    width: float  # |value| / the largest |value| shown, 0 .. 1


@dataclasses.dataclass(frozen=True, eq=False)
class AttributionView:
    target: int
    other: int | None  # the second token of a logit difference, or None
    bars: tuple[PartBar, ...]  # the parts shown, largest |contribution| first
    named: tuple[PartBar, ...]  # the largest positive parts, said in words
    per_block: np.ndarray  # (L,) each block's parts added up
    embed: float  # the embeddings' part, which is in no block
    total: float  # every part and the constant added up
    model_logit: float  # the model's own logit (difference)
    difference: float  # total - model_logit
    shown_of: int  # how many parts the filter keeps, before top N


def part_kind(name: str, layer: int | None) -> tuple[str, int | None]:
    """(kind, head) of a part's name."""
    if name in (EMBED, LNF_BIAS):
        return name, None
    if name.endswith("attn_bias"):
        return "attn_bias", None
    if name.endswith("mlp"):
        return "mlp", None
    return "head", int(name[len(f"L{layer}H") :])


def _bars(attribution: Attribution) -> list[PartBar]:
    """Every part and the constant as a bar (width unset), in the model's order."""
    bars = []
    for name, layer, value in zip(
        attribution.names, attribution.layers, attribution.values, strict=True
    ):
        kind, head = part_kind(name, layer)
        bars.append(PartBar(name, kind, layer, head, float(value), 0.0))
    bars.append(PartBar(LNF_BIAS, LNF_BIAS, None, None, attribution.constant, 0.0))
    return bars


def keeps(bar: PartBar, filter_: str) -> bool:
    """Whether the filter ("all", "heads" or "mlps") shows the bar."""
    return filter_ == "all" or bar.kind == {"heads": "head", "mlps": "mlp"}[filter_]


def attribution_view(
    parts: Parts,
    target: int,
    other: int | None = None,
    filter_: str = "all",
    top: int = DEFAULT_TOP,
) -> AttributionView:
    """The stage for `target` (and `other`, for a logit difference): the `top` parts the
    filter keeps, ranked by the size of their contribution, the largest positive ones named."""
    if filter_ not in FILTERS:
        raise ValueError(f"the filter is one of {FILTERS}, not {filter_!r}")
    attribution = attribute(parts, target, other)
    every = _bars(attribution)
    kept = sorted((b for b in every if keeps(b, filter_)), key=lambda b: -abs(b.value))
    shown = kept[: max(1, top)]
    largest = max((abs(b.value) for b in shown), default=0.0) or 1.0
    shown = [dataclasses.replace(b, width=abs(b.value) / largest) for b in shown]
    named = sorted((b for b in every if b.value > 0), key=lambda b: -b.value)[:NAMED_PARTS]
    return AttributionView(
        target=target,
        other=other,
        bars=tuple(shown),
        named=tuple(named),
        per_block=per_block(attribution),
        embed=float(attribution.values[0]),
        total=attribution.total,
        model_logit=attribution.model_logit,
        difference=attribution.difference,
        shown_of=len(kept),
    )


@dataclasses.dataclass(frozen=True)
class LensLink:
    """What the logit lens says of the target at the last position, beside the per-block chart:
    a second reading of "which depth decides", from the residual stream itself (the final
    layer norm applied after each block) rather than from each part's share."""

    on_top: tuple[bool, ...]  # (L,) after block l, is the target the lens's top token?
    settled_block: int | None  # the block from which it stays on top to the end; None: not so


def lens_link(lens: LogitLensView | None, target: int) -> LensLink | None:
    """The lens's top token at the last position after each block, against `target`; None
    until the lens of this text is computed. Depth 0 (the embeddings) is in no block."""
    if lens is None:
        return None
    tops = [row[-1].token_ids[0] for row in lens.cells[1:]]  # (L,) after block 0 .. L-1
    on_top = tuple(top == target for top in tops)
    # on top after the last block: the target is the lens's final token, which stays on top
    # from settled_depth on; depth d > 0 is after block d - 1, depth 0 counts from block 0
    settled = max(lens.settled_depth - 1, 0) if on_top[-1] else None
    return LensLink(on_top, settled)
