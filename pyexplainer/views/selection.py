"""What a view is asked to show, checked: which tokens a trace covers, and which layer, head or
position. A trace holds T new tokens at absolute positions P .. P + T - 1 after P cached ones;
its keys and values cover positions 0 .. P + T - 1 (S = P + T)."""

from __future__ import annotations

import operator
from collections.abc import Sequence

from pyexplainer.core.trace import Trace
from pyexplainer.views.tokens import TokenView


def covered_tokens(trace: Trace, tokens: Sequence[TokenView]) -> tuple[TokenView, ...]:
    """The token views of positions 0 .. S - 1, checked against the trace's new token ids.

    `tokens` lists every token of the session in order (token_views); it may hold more than S.
    """
    s = trace.past_length + len(trace.input_ids)
    if len(tokens) < s:
        raise ValueError(f"the trace covers {s} positions but only {len(tokens)} tokens were given")
    new = [t.token_id for t in tokens[trace.past_length : s]]
    if new != trace.input_ids.tolist():
        raise ValueError("the tokens given are not the ones the trace computed")
    return tuple(tokens[:s])


def checked_index(name: str, value: int, count: int) -> int:
    """value as an index in 0 .. count - 1, or a ValueError naming `name` (no negative indexing)."""
    value = operator.index(value)
    if not 0 <= value < count:
        raise ValueError(f"{name} must be in 0 .. {count - 1}, got {value}")
    return value


def row_of_position(trace: Trace, position: int) -> int:
    """The trace row (0 .. T - 1) of absolute position `position`, which this step computed."""
    position = operator.index(position)
    first, t = trace.past_length, len(trace.input_ids)
    if not first <= position < first + t:
        cached = "; earlier ones come from the key/value cache" if first else ""
        raise ValueError(
            f"position {position} was not computed in this step "
            f"(it computed positions {first} .. {first + t - 1}{cached})"
        )
    return position - first
