"""The logit lens as a grid: for every depth of the residual stream (the embeddings, then after
each block) and every position, the tokens the final layer norm and output layer would predict
from it, had the model stopped there (nostalgebraist, "interpreting GPT: the logit lens", 2020).

The last depth is the model's real prediction. Along a column one sees at which block the model
settles on its answer; a cell is marked when its top token is the one that really comes next.
"""

from __future__ import annotations

import dataclasses

from pyexplainer.core.lens import LogitLens
from pyexplainer.core.tokenizer import Tokenizer
from pyexplainer.views.characters import read_token, unfinished_tail
from pyexplainer.views.tokens import TokenView


@dataclasses.dataclass(frozen=True)
class LensCell:
    depth: int  # 0 = the embeddings, d = after block d - 1
    position: int
    token_ids: tuple[int, ...]  # the K most probable, first first
    labels: tuple[str, ...]  # each read after the text up to `position` (views.characters)
    probabilities: tuple[float, ...]
    is_next: bool  # the top token is the token at position + 1 (never for the last position)


@dataclasses.dataclass(frozen=True)
class LogitLensView:
    tokens: tuple[TokenView, ...]  # the columns: the last positions of the text
    cells: tuple[tuple[LensCell, ...], ...]  # (L+1, n): rows are depths
    n_layers: int
    n_text_tokens: int  # the whole text's, of which the grid shows the last len(tokens)

    @property
    def settled_depth(self) -> int:
        """The first depth from which the last position's top token is the final one for good."""
        column = [row[-1].token_ids[0] for row in self.cells]
        depth = len(column) - 1
        while depth > 0 and column[depth - 1] == column[-1]:
            depth -= 1
        return depth


def logit_lens_view(
    lens: LogitLens, tokenizer: Tokenizer, tokens: list[TokenView]
) -> LogitLensView:
    """The grid of `lens` over the text's `tokens` (it covers the last positions of them)."""
    depths, n, _ = lens.ids.shape  # (L+1, n, K)
    if lens.first_position + n != len(tokens):
        raise ValueError(
            f"the lens covers positions {lens.first_position} to {lens.first_position + n - 1}, "
            f"the text has {len(tokens)} tokens"
        )
    ids = [t.token_id for t in tokens]
    pending = [
        unfinished_tail(tokenizer, ids[: p + 1]) for p in range(lens.first_position, len(ids))
    ]
    labels = [
        [
            tuple(read_token(tokenizer, int(i), tail).label for i in cell)
            for cell, tail in zip(row, pending, strict=True)
        ]
        for row in lens.ids
    ]  # (L+1, n) of K labels
    following = [t.token_id for t in tokens[1:]] + [-1]
    cells = tuple(
        tuple(
            LensCell(
                depth,
                position,
                tuple(int(i) for i in lens.ids[depth, column]),
                labels[depth][column],
                tuple(float(p) for p in lens.probs[depth, column]),
                int(lens.ids[depth, column, 0]) == following[position],
            )
            for column, position in enumerate(range(lens.first_position, len(tokens)))
        )
        for depth in range(depths)
    )
    return LogitLensView(tuple(tokens[lens.first_position :]), cells, depths - 1, len(tokens))
